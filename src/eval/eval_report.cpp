#include "eval/eval_report.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "model/param_count.h"

namespace optipfair {

EvalRun run_eval(const Model& model, const Tokenizer& tokenizer, const std::string& model_path,
                 const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  EvalRun run;
  run.model_path = model_path;
  run.num_parameters = count_parameters(model).total();
  run.results = run_eval_tasks(model, tokenizer, options);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

namespace {

using nlohmann::json;

json number_or_na(double v) { return std::isfinite(v) ? json(v) : json("N/A"); }

std::string fmt(double v) {
  if (!std::isfinite(v)) return "N/A";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string fmt_signed(double v) {
  if (!std::isfinite(v)) return "N/A";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.4f", v);
  return buf;
}

// Renders rows as a markdown table with padded columns.
std::string render(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      // Display width: count code points, not bytes, so arrows line up.
      size_t w = 0;
      for (unsigned char ch : r[c]) w += (ch & 0xC0) != 0x80;
      width[c] = std::max(width[c], w);
    }
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    out += "|";
    for (size_t c = 0; c < rows[i].size(); ++c) {
      size_t w = 0;
      for (unsigned char ch : rows[i][c]) w += (ch & 0xC0) != 0x80;
      out += rows[i][c] + std::string(width[c] - w, ' ') + "|";
    }
    out += "\n";
    if (i == 0) {
      out += "|";
      for (size_t c = 0; c < width.size(); ++c) out += std::string(width[c], '-') + "|";
      out += "\n";
    }
  }
  return out;
}

const MetricValue* find_metric(const EvalRun& run, const std::string& task, const std::string& metric) {
  for (const auto& t : run.results)
    if (t.task == task)
      for (const auto& m : t.metrics)
        if (m.name == metric) return &m;
  return nullptr;
}

}  // namespace

json eval_run_json(const EvalRun& run, const EvalOptions& options) {
  json j;
  j["results"] = json::object();
  j["higher_is_better"] = json::object();
  j["n-samples"] = json::object();
  for (const auto& t : run.results) {
    json r;
    r["alias"] = t.task;
    for (const auto& m : t.metrics) {
      r[m.name + ",none"] = number_or_na(m.value);
      r[m.name + "_stderr,none"] = number_or_na(m.stderr_value);
      j["higher_is_better"][t.task][m.name] = m.higher_is_better;
    }
    j["results"][t.task] = r;
    json n = {{"original", t.available}, {"effective", t.samples}};
    if (t.skipped) {
      n["skipped"] = t.skipped;
      n["first_skipped"] = t.skipped_detail;
    }
    j["n-samples"][t.task] = n;
    j["n-shot"][t.task] = t.num_fewshot;
    j["task_seconds"][t.task] = t.seconds;
  }
  j["config"] = {{"model", run.model_path},
                 {"model_num_parameters", run.num_parameters},
                 {"batch_size", options.batch_size},
                 {"limit", options.limit > 0 ? json(options.limit) : json(nullptr)},
                 {"num_fewshot", options.num_fewshot},
                 {"seed", options.seed},
                 {"max_length", options.max_length > 0 ? json(options.max_length) : json(nullptr)},
                 {"bootstrap_iters", options.bootstrap_iters},
                 {"data_dir", options.data_dir.string()}};
  j["total_evaluation_time_seconds"] = std::to_string(run.seconds);
  return j;
}

std::string eval_table(const EvalRun& run) {
  std::vector<std::vector<std::string>> rows = {{"Tasks", "n-shot", "Metric", "", "Value", "", "Stderr"}};
  for (const auto& t : run.results) {
    bool first = true;
    for (const auto& m : t.metrics) {
      rows.push_back({first ? t.task : "", first ? std::to_string(t.num_fewshot) : "", m.name,
                      m.higher_is_better ? "\xE2\x86\x91" : "\xE2\x86\x93", fmt(m.value), "\xC2\xB1",
                      fmt(m.stderr_value)});
      first = false;
    }
  }
  return render(rows);
}

std::string eval_compare_table(const EvalRun& original, const EvalRun& pruned) {
  std::vector<std::vector<std::string>> rows = {{"Tasks", "Metric", "", "original", "pruned", "diff"}};
  for (const auto& t : original.results) {
    bool first = true;
    for (const auto& m : t.metrics) {
      const MetricValue* p = find_metric(pruned, t.task, m.name);
      const double pv = p ? p->value : std::nan("");
      rows.push_back({first ? t.task : "", m.name, m.higher_is_better ? "\xE2\x86\x91" : "\xE2\x86\x93", fmt(m.value),
                      fmt(pv), fmt_signed(pv - m.value)});
      first = false;
    }
  }
  return render(rows);
}

json eval_compare_json(const EvalRun& original, const EvalRun& pruned) {
  json j = json::object();
  for (const auto& t : original.results)
    for (const auto& m : t.metrics) {
      const MetricValue* p = find_metric(pruned, t.task, m.name);
      const double pv = p ? p->value : std::nan("");
      j[t.task][m.name] = {{"original", number_or_na(m.value)}, {"pruned", number_or_na(pv)},
                           {"diff", number_or_na(pv - m.value)}};
    }
  return j;
}

}  // namespace optipfair
