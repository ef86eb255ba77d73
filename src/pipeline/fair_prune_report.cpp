// report.html and the figures of a fair-prune run.
#include "pipeline/fair_prune_report.h"

#include <cstdio>
#include <map>

#include "bias/bias_plots.h"
#include "report/html_report.h"
#include "report/plot.h"
#include "util/json_file.h"

namespace optipfair {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string percent(double before, double after) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f %%", percent_change(before, after));
  return buf;
}

// "[3]". (snprintf rather than "[" + std::to_string(n): GCC 12 reports a false -Wrestrict on the
// latter.)
std::string footnote_mark(size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "[%zu]", n);
  return buf;
}

std::vector<std::string> bias_row(const std::string& what, const BiasSummary& b, const BiasSummary& a) {
  return {what, std::to_string(b.pairs), num(b.mean_difference), num(a.mean_difference),
          percent(b.mean_difference, a.mean_difference)};
}

void add_result(HtmlReport& report, const FairPruneResult& r) {
  const int64_t removed = r.parameters_before - r.parameters_after;
  report.add_section("Result");
  report.add_paragraph(fair_prune_headline(r) + "\n" + (r.mode == PruneMode::Zero ? "parameters zeroed: " : "parameters removed: ") +
                       std::to_string(removed) + " of " + std::to_string(r.parameters_before) + " (" +
                       num(100.0 * static_cast<double>(removed) / static_cast<double>(r.parameters_before)) + " %)");
  std::vector<std::vector<std::string>> rows = {bias_row("used to choose the neurons", r.used_before, r.used_after)};
  if (r.held_out_before && r.held_out_after) rows.push_back(bias_row("held out", *r.held_out_before, *r.held_out_after));
  report.add_table({"pairs", "count", "before", "after", "change"}, rows,
                   "Mean activation difference (lower is less biased). Only held-out pairs show whether the cut "
                   "generalises beyond the pairs that chose it.");
  if (r.perplexity) {
    const PerplexityChange& p = *r.perplexity;
    report.add_table({"text", "documents", "before", "after", "change"},
                     {{p.file.filename().string(), std::to_string(p.before.documents), num(p.before.token_perplexity),
                       num(p.after.token_perplexity), percent(p.before.token_perplexity, p.after.token_perplexity)}},
                     "Perplexity (lower is better)");
  }
  if (r.eval) {
    report.add_section("Evaluation tasks");
    report.add_preformatted(eval_compare_table(r.eval->before, r.eval->after));
  }
}

void add_categories(HtmlReport& report, const FairPruneResult& r) {
  std::map<std::string, int64_t> counts;
  for (const PairAnalysis& p : r.original->bias.pairs) ++counts[p.pair.category];
  if (counts.size() < 2 && counts.begin()->first.empty()) return;  // no categories to show
  std::vector<std::vector<std::string>> rows;
  for (const auto& [category, before] : r.used_before.per_category) {
    const double after = r.used_after.per_category.at(category);
    rows.push_back({category.empty() ? "uncategorised" : category, std::to_string(counts[category]), num(before), num(after),
                    percent(before, after)});
  }
  report.add_section("Per category");
  report.add_table({"category", "pairs", "before", "after", "change"}, rows);
}

// What a footnote explains once for every pair it applies to, and what the pair's own cell says.
std::pair<std::string, std::string> pair_note(const PairAnalysis& p) {
  if (p.identical) return {p.note, ""};
  if (!p.equal_length)
    return {"The prompts tokenise to different lengths, so the Python library reports no metrics for the pair; "
            "ours compares them after alignment: equal tokens one to one, the differing span mean-pooled on each side.",
            std::to_string(p.ids1.size()) + " vs " + std::to_string(p.ids2.size()) + " tokens, " +
                std::to_string(p.alignment.size()) + " aligned rows"};
  return {p.note, ""};
}

// The per-pair table in reading order, each distinct note once as a numbered footnote.
void add_pairs(HtmlReport& report, const FairPruneResult& r) {
  std::vector<std::string> notes;
  std::vector<std::vector<std::string>> rows;
  const auto& pairs = r.original->bias.pairs;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const PairAnalysis& b = pairs[i];
    const double after = r.bias_after.pairs.at(i).mean_difference;
    const auto [footnote, detail] = pair_note(b);
    std::string cell = detail;
    if (!footnote.empty()) {
      size_t n = 0;
      while (n < notes.size() && notes[n] != footnote) ++n;
      if (n == notes.size()) notes.push_back(footnote);
      cell = footnote_mark(n + 1) + (detail.empty() ? "" : " " + detail);
    }
    rows.push_back({b.pair.category, b.pair.prompt1, b.pair.prompt2, num(b.mean_difference), num(after),
                    percent(b.mean_difference, after), cell});
  }
  report.add_section("Per pair");
  report.add_table({"category", "prompt 1", "prompt 2", "before", "after", "change", "note"}, rows);
  std::string footnotes;
  for (size_t n = 0; n < notes.size(); ++n) {
    if (n) footnotes += '\n';
    footnotes += footnote_mark(n + 1);
    footnotes += ' ';
    footnotes += notes[n];
  }
  if (!footnotes.empty()) report.add_paragraph(footnotes);
}

// Heatmap and PCA of the first pair at the layer that changed most, before and after.
void add_most_changed_layer(HtmlReport& report, const FairPruneResult& r, const std::filesystem::path& dir,
                            ImageFormat format) {
  const PairAnalysis& before = r.original->bias.pairs.front();
  const PairAnalysis& after = r.bias_after.pairs.front();
  const int layer = fair_prune_most_changed_layer(r);
  const std::string key = activation_key(Component::MlpOutput, layer);
  if (!before.kept.count(key) || !after.kept.count(key)) return;
  report.add_section("Layer " + std::to_string(layer) + ", the one that changed most");
  report.add_paragraph("Pair 1 (\"" + before.pair.prompt1 + "\" / \"" + before.pair.prompt2 + "\"), " + key +
                       ": where the two prompts' activations differ, before and after pruning.");
  for (const auto& [which, pair] : {std::pair{"original", &before}, std::pair{"pruned", &after}}) {
    Heatmap h = difference_heatmap(*pair, 0, key, 32);
    h.text.title += " (" + std::string(which) + ")";
    const auto hpath = dir / ("heatmap_" + key + "_pair0_" + which + std::string(image_format_extension(format)));
    heatmap_write(h, hpath, format);
    report.add_figure(hpath, h.text.title);
  }
  for (const auto& [which, pair] : {std::pair{"original", &before}, std::pair{"pruned", &after}}) {
    ScatterPlot s = token_pca_plot(*pair, 0, key);
    s.text.title += " (" + std::string(which) + ")";
    const auto spath = dir / ("pca_" + key + "_pair0_" + which + std::string(image_format_extension(format)));
    scatter_plot_write(s, spath, format);
    report.add_figure(spath, s.text.title);
  }
}

}  // namespace

std::filesystem::path write_fair_prune_report(const FairPruneResult& r, const std::filesystem::path& dir,
                                              const FairPruneReportInfo& info) {
  std::filesystem::create_directories(dir);
  const nlohmann::ordered_json j = fair_prune_json(r, info.model_name);
  write_json_file(dir / "fair_prune.json", j);
  write_json_file(dir / "neuron_bias_scores.json", neuron_scores_json(r.original->bias.neuron_scores));
  const std::vector<PlotFile> plots =
      write_bias_comparison(r.original->bias, r.bias_after, dir, info.format, "original", "pruned");

  HtmlReport report("Fairness pruning: " + info.model_name);
  report.set_command_line(info.command_line);
  add_result(report, r);
  add_categories(report, r);
  add_pairs(report, r);
  report.add_section("Per layer");
  for (const PlotFile& p : plots) report.add_figure(p.path, p.caption);
  add_most_changed_layer(report, r, dir, info.format);
  if (!r.continuations.empty()) {
    report.add_section("Continuations");
    std::vector<std::vector<std::string>> rows;
    for (const Continuation& c : r.continuations) rows.push_back({c.prompt, c.before, c.after});
    report.add_table({"prompt", "original", "pruned"}, rows, "The seed notebook's beam search (5 beams, no repeated bigram)");
  }
  report.add_json("fair_prune.json", j);
  const auto path = dir / "report.html";
  report.write(path);
  return path;
}

}  // namespace optipfair
