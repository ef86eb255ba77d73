#include "pipeline/sweep_report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "bias/bias_summary.h"
#include "report/html_report.h"
#include "report/plot.h"
#include "util/json_file.h"
#include "util/text_file.h"

namespace optipfair {

namespace {

std::string num(double v, const char* format = "%.6g") {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string mean_sd_text(const MeanSd& m) {
  if (!std::isfinite(m.mean)) return "—";
  return num(m.mean, "%+.2f") + " ± " + num(m.sd, "%.2f");
}

// The series a point is drawn in: one per method (hybrid per bias weight), random seeds apart.
std::string series_of(const SweepConfig& c) {
  if (c.method == SweepMethod::Hybrid) return "hybrid w=" + num(c.bias_weight, "%g");
  return sweep_method_name(c.method);
}

ScatterPlot tradeoff_plot(const SweepResult& result, const SweepSummary& s, bool have_capability) {
  ScatterPlot chart;
  chart.text.title = "Held-out bias reduction against " + std::string(have_capability ? "capability retained" : "parameters removed");
  chart.text.x_label = have_capability ? "capability retained (%)" : "MLP parameters removed (%)";
  chart.text.y_label = "held-out bias reduction (%)";
  chart.text.caption =
      "Each point: one configuration, mean over folds. Random: small points are single seeds (mean over folds), "
      "the large point their mean. Outlined: Pareto-optimal. Label: pruning percentage.";
  chart.highlight_meaning = "Pareto-optimal";
  std::map<std::string, size_t> series;
  auto add = [&](const std::string& name, ScatterPoint p) {
    auto [it, fresh] = series.emplace(name, chart.series.size());
    if (fresh) chart.series.push_back({name, {}});
    chart.series[it->second].points.push_back(std::move(p));
  };
  for (const SweepPoint& p : s.points) {
    const double x = have_capability ? p.capability.mean : p.parameters_removed_pct;
    add(series_of(p.config), {x, p.held_out_reduction.mean, "p=" + num(p.config.percentage, "%g"), p.pareto});
  }
  // The random band: each seed's mean over folds.
  std::map<std::string, std::vector<const SweepRow*>> per_seed;
  for (const SweepRow& r : result.rows)
    if (r.config.method == SweepMethod::Random) per_seed[r.config.key()].push_back(&r);
  for (const auto& [key, rows] : per_seed) {
    std::vector<double> xs, ys;
    for (const SweepRow* r : rows) {
      xs.push_back(have_capability ? r->capability_retained()
                                   : 100.0 * static_cast<double>(r->parameters_removed) / static_cast<double>(r->parameters));
      ys.push_back(r->held_out_reduction());
    }
    add("random (each seed)", {mean_sd(xs).mean, mean_sd(ys).mean, "", false});
  }
  return chart;
}

BarChart category_bars(const SweepSummary& s) {
  BarChart chart;
  const SweepPoint& best = s.points.at(*s.best);
  chart.text.title = "Held-out bias reduction per category: " + best.group;
  chart.text.y_label = "reduction (%), mean ± sd over folds";
  chart.text.caption = "Positive: the pruned model's activations differ less between the two prompts of a pair.";
  BarSeries b{best.group, {}, {}};
  const SweepPoint* random = nullptr;
  for (const SweepPoint& q : s.points)
    if (q.config.method == SweepMethod::Random && q.config.percentage == best.config.percentage &&
        q.config.layers.name == best.config.layers.name && q.config.mode == best.config.mode && &q != &best)
      random = &q;
  BarSeries r{"random, same size", {}, {}};
  for (const auto& [category, m] : best.held_out_category_reduction) {
    chart.categories.push_back(category.empty() ? "(none)" : category);
    b.values.push_back(m.mean);
    b.errors.push_back(m.sd);
    if (random) {
      const auto it = random->held_out_category_reduction.find(category);
      r.values.push_back(it == random->held_out_category_reduction.end() ? NAN : it->second.mean);
      r.errors.push_back(it == random->held_out_category_reduction.end() ? NAN : it->second.sd);
    }
  }
  chart.series.push_back(b);
  if (random) chart.series.push_back(r);
  return chart;
}

std::vector<std::string> point_cells(const SweepPoint& p) {
  return {p.group,
          std::to_string(p.rows),
          mean_sd_text(p.held_out_reduction),
          mean_sd_text(p.used_reduction),
          std::isfinite(p.capability.mean) ? mean_sd_text(p.capability) : "—",
          num(p.parameters_removed_pct, "%.3f"),
          p.pareto ? "yes" : ""};
}

}  // namespace

std::string sweep_csv(const SweepResult& result) {
  std::set<std::string> categories, tasks;
  for (const SweepRow& r : result.rows) {
    for (const auto& [c, v] : r.held_out_category_before) categories.insert(c);
    for (const TaskFigure& t : r.tasks) tasks.insert(t.task);
  }
  std::string out =
      "config,method,bias_weight,percentage,layers,mode,seed,fold,train_pairs,held_out_pairs,used_before,used_after,"
      "used_reduction_pct,held_out_before,held_out_after,held_out_reduction_pct,perplexity_before,perplexity_after,"
      "capability_retained_pct,parameters,parameters_removed";
  for (const std::string& c : categories) out += "," + csv_field("held_out_reduction_pct:" + (c.empty() ? "(none)" : c));
  for (const std::string& t : tasks) out += "," + csv_field(t + ":before") + "," + csv_field(t + ":after");
  out += ",seconds\n";  // last, so the figures before it compare between runs
  for (const SweepRow& r : result.rows) {
    const SweepConfig& c = r.config;
    out += csv_field(c.key()) + "," + sweep_method_name(c.method) + "," + num(c.bias_weight) + "," + num(c.percentage) +
           "," + csv_field(c.layers.name) + "," + prune_mode_name(c.mode) + "," + std::to_string(c.seed) + "," +
           std::to_string(r.fold) + "," + std::to_string(r.train_pairs) + "," + std::to_string(r.held_out_pairs) + "," +
           num(r.used_before, "%.9g") + "," + num(r.used_after, "%.9g") + "," + num(r.used_reduction()) + "," +
           num(r.held_out_before, "%.9g") + "," + num(r.held_out_after, "%.9g") + "," + num(r.held_out_reduction()) + "," +
           (r.perplexity_before ? num(*r.perplexity_before) : "") + "," +
           (r.perplexity_after ? num(*r.perplexity_after) : "") + "," + num(r.capability_retained()) + "," +
           std::to_string(r.parameters) + "," + std::to_string(r.parameters_removed);
    for (const std::string& cat : categories) {
      const auto b = r.held_out_category_before.find(cat);
      const auto a = r.held_out_category_after.find(cat);
      out += ",";
      if (b != r.held_out_category_before.end() && a != r.held_out_category_after.end())
        out += num(-percent_change(b->second, a->second));
    }
    for (const std::string& task : tasks) {
      std::string before, after;
      for (const TaskFigure& t : r.tasks)
        if (t.task == task) {
          before = num(t.before);
          after = num(t.after);
        }
      out += "," + before + "," + after;
    }
    out += "," + num(r.seconds, "%.3f") + "\n";
  }
  return out;
}

std::filesystem::path write_sweep_report(const SweepResult& result, const SweepSummary& s,
                                         const std::filesystem::path& dir, const SweepReportInfo& info) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  write_text_file(dir / "sweep.csv", sweep_csv(result));
  write_json_file(dir / "sweep_summary.json", sweep_summary_json(s));

  bool have_capability = false;
  for (const SweepPoint& p : s.points) have_capability = have_capability || std::isfinite(p.capability.mean);
  const std::string ext(image_format_extension(info.format));

  HtmlReport report("Fairness-pruning sweep: " + info.model_name);
  report.set_command_line(info.command_line);
  report.add_section("Trade-off");
  report.add_paragraph(s.answer);
  const std::filesystem::path tradeoff = dir / ("tradeoff" + ext);
  write_text_file(tradeoff, scatter_plot_render(tradeoff_plot(result, s, have_capability), info.format));
  report.add_figure(tradeoff, "Held-out bias reduction against " +
                                  std::string(have_capability ? "capability retained" : "parameters removed") +
                                  " (capability: " + s.capability_measure + ").");

  const std::vector<std::string> header{"configuration", "folds×seeds", "held-out reduction %", "used-pairs reduction %",
                                        "capability retained %", "MLP parameters removed %", "Pareto"};
  std::vector<std::vector<std::string>> pareto, all;
  for (const SweepPoint& p : s.points) {
    all.push_back(point_cells(p));
    if (p.pareto) pareto.push_back(point_cells(p));
  }
  report.add_section("Pareto-optimal settings");
  report.add_table(header, pareto,
                   "No other configuration reduces held-out bias as much while keeping as much capability. Mean ± "
                   "sample standard deviation over folds (and seeds for random).");
  if (s.best) {
    report.add_section("Per category, best configuration");
    const std::filesystem::path bars = dir / ("categories" + ext);
    write_text_file(bars, bar_chart_render(category_bars(s), info.format));
    report.add_figure(bars, "Held-out reduction per category of " + s.points[*s.best].group +
                                ", beside random pruning of the same size where the sweep has it.");
  }
  report.add_section("Every configuration");
  report.add_table(header, all,
                   "Reductions are (before − after) / before of the mean activation difference (the Python "
                   "library's mean_difference, aligned for unequal lengths). The used-pairs figure is measured on "
                   "the pairs that chose the neurons and flatters the method; read the held-out column.");
  report.add_section("Settings");
  report.add_paragraph(info.settings);
  report.add_paragraph("Rows: " + std::to_string(result.rows.size()) + " (" + std::to_string(result.resumed) +
                       " read back from sweep.jsonl), " + std::to_string(result.folds) + " fold(s). Capability: " +
                       s.capability_measure + ".");
  report.add_json("sweep_summary.json", sweep_summary_json(s));
  const std::filesystem::path path = dir / "report.html";
  report.write(path);
  return path;
}

}  // namespace optipfair
