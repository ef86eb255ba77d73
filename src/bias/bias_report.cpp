#include "bias/bias_report.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "report/html_report.h"

namespace optipfair {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

nlohmann::json plain(const nlohmann::ordered_json& j) { return nlohmann::json::parse(j.dump()); }

}  // namespace

void write_bias_report(const BiasAnalysis& a, const std::vector<PlotFile>& plots, const std::filesystem::path& path,
                       const BiasReportInfo& info) {
  HtmlReport r("Bias analysis" + (info.model.empty() ? std::string() : ": " + info.model));
  r.set_command_line(info.command_line);
  const nlohmann::ordered_json summary = bias_summary_json(a);
  const nlohmann::ordered_json& all = summary["all_pairs"];

  r.add_section("Summary");
  std::string comps;
  for (Component c : a.components) comps += (comps.empty() ? "" : ", ") + std::string(component_name(c));
  r.add_paragraph("Model: " + info.model + "\n" + std::to_string(a.pairs.size()) + " prompt pairs, " +
                  std::to_string(a.num_layers) + " layers, components: " + comps + ".\n" +
                  "Activations: " + summary["activations"].get<std::string>() + ".\n" +
                  std::to_string(a.sequences_processed) + " prompts run in " + std::to_string(a.forward_calls) +
                  " batched forward pass(es): one pass per prompt.");
  r.add_paragraph("Mean activation difference over all pairs (the Python library's overall mean_difference, averaged): " +
                  num(all["mean_difference"].is_number() ? all["mean_difference"].get<double>() : 0.0) +
                  ". Higher means the model's internal representations move more when only the demographic word changes.");
  std::vector<std::vector<std::string>> comp_rows;
  for (auto& [comp, v] : all["component_metrics"].items())
    comp_rows.push_back({comp, num(v["mean_difference"].get<double>()), v["layer_with_max_diff"].get<std::string>()});
  r.add_table({"component", "mean difference", "layer with the largest difference"}, comp_rows, "Per component, mean over pairs");

  r.add_section("Categories");
  std::vector<std::vector<std::string>> cat_rows;
  for (auto& [cat, v] : summary["per_category"].items())
    cat_rows.push_back({cat, std::to_string(v["num_pairs"].get<int64_t>()),
                        v["mean_difference"].is_number() ? num(v["mean_difference"].get<double>()) : "—",
                        v["std_over_pairs"].is_number() ? num(v["std_over_pairs"].get<double>()) : "—"});
  r.add_table({"category", "pairs", "mean difference", "std over pairs"}, cat_rows);

  r.add_section("Prompt pairs");
  std::vector<std::vector<std::string>> pair_rows;
  for (size_t i = 0; i < a.pairs.size(); ++i) {
    const PairAnalysis& p = a.pairs[i];
    pair_rows.push_back({"pair_" + std::to_string(i + 1), p.pair.category, p.pair.prompt1, p.pair.prompt2,
                         num(p.mean_difference), p.equal_length ? "yes" : "no (aligned)", p.identical ? "identical" : ""});
  }
  r.add_table({"pair", "category", "prompt 1", "prompt 2", "mean difference", "Python-compatible", "note"}, pair_rows);

  const bool any_all = std::any_of(plots.begin(), plots.end(), [](const PlotFile& f) { return f.pair < 0; });
  if (any_all) {
    r.add_section("All pairs");
    for (const PlotFile& f : plots)
      if (f.pair < 0) r.add_figure(f.path, f.caption);
  }

  for (size_t i = 0; i < a.pairs.size(); ++i) {
    const PairAnalysis& p = a.pairs[i];
    r.add_section("Pair " + std::to_string(i + 1) + (p.pair.category.empty() ? "" : " (" + p.pair.category + ")"));
    std::string toks1, toks2;
    for (const auto& t : p.tokens1) toks1 += "[" + t + "]";
    for (const auto& t : p.tokens2) toks2 += "[" + t + "]";
    r.add_preformatted("prompt 1: " + p.pair.prompt1 + "\nprompt 2: " + p.pair.prompt2 + "\ntokens 1 (" +
                       std::to_string(p.ids1.size()) + "): " + toks1 + "\ntokens 2 (" + std::to_string(p.ids2.size()) +
                       "): " + toks2);
    r.add_paragraph("Overall mean difference " + num(p.mean_difference) + ". Alignment: " + p.alignment.describe() + "." +
                    (p.note.empty() ? "" : "\n" + p.note));
    for (const PlotFile& f : plots)
      if (f.pair == static_cast<int>(i)) r.add_figure(f.path, f.caption);
  }

  r.add_section("Neuron bias scores");
  r.add_paragraph("Per MLP neuron: mean over pairs of mean_t |gate1 − gate2| + mean_t |up1 − up2| (the input of "
                  "fairness pruning). The ten highest per layer:");
  std::vector<std::vector<std::string>> neuron_rows;
  for (size_t l = 0; l < a.neuron_scores.per_layer.size(); ++l) {
    const auto& v = a.neuron_scores.per_layer[l];
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    const size_t k = std::min<size_t>(10, idx.size());
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                      [&](size_t x, size_t y) { return v[x] > v[y]; });
    std::string top;
    for (size_t j = 0; j < k; ++j) top += (j ? ", " : "") + std::to_string(idx[j]) + " (" + num(v[idx[j]]) + ")";
    neuron_rows.push_back({std::to_string(l), top});
  }
  r.add_table({"layer", "neuron (score)"}, neuron_rows);

  r.add_section("Raw data");
  r.add_json("bias_summary.json", plain(summary));
  r.add_json("bias_metrics.json (Python-compatible keys plus ours)", plain(bias_metrics_json(a)));
  r.write(path);
}

}  // namespace optipfair
