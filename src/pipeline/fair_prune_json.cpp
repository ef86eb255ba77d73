// fair_prune.json, the headline, and the pruned model's record.
#include <cmath>
#include <cstdio>

#include "pipeline/fair_prune_report.h"
#include "util/json_file.h"

namespace optipfair {

namespace {

nlohmann::ordered_json before_after(double before, double after) {
  return {{"before", before}, {"after", after}, {"change_percent", percent_change(before, after)}};
}

nlohmann::ordered_json per_category_json(const BiasSummary& before, const BiasSummary& after) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [category, value] : before.per_category) {
    const auto it = after.per_category.find(category);
    j[category.empty() ? "uncategorised" : category] = before_after(value, it == after.per_category.end() ? 0 : it->second);
  }
  return j;
}

double total_seconds(const FairPruneResult& r) {
  double s = 0;
  for (const auto& [stage, seconds] : r.original->seconds) s += seconds;
  for (const auto& [stage, seconds] : r.seconds) s += seconds;
  return s;
}

nlohmann::ordered_json stage_json(const StageTimes& stages) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [stage, seconds] : stages) j[stage] = seconds;
  return j;
}

}  // namespace

std::string fair_prune_headline(const FairPruneResult& r) {
  const double b = r.used_before.mean_difference, a = r.used_after.mean_difference;
  char line[256];
  std::snprintf(line, sizeof line, "bias %s by %.2f %% (mean activation difference %.6g -> %.6g)",
                a <= b ? "decreased" : "increased", std::fabs(percent_change(b, a)), b, a);
  return line;
}

nlohmann::ordered_json fair_prune_json(const FairPruneResult& r, const std::string& model_name) {
  const FairPruneOriginal& o = *r.original;
  nlohmann::ordered_json j;
  j["model"] = model_name;
  j["plan"] = fairness_plan_json(r.plan, r.kept);
  j["plan"]["mode"] = prune_mode_name(r.mode);
  j["pairs"] = r.used_before.pairs;
  j["parameters_before"] = r.parameters_before;
  j["parameters_after"] = r.parameters_after;
  j["parameters_removed"] = r.parameters_before - r.parameters_after;
  j["parameters_removed_percent"] =
      100.0 * static_cast<double>(r.parameters_before - r.parameters_after) / static_cast<double>(r.parameters_before);
  j["mean_difference_before"] = r.used_before.mean_difference;
  j["mean_difference_after"] = r.used_after.mean_difference;
  j["mean_difference_change_percent"] = percent_change(r.used_before.mean_difference, r.used_after.mean_difference);
  j["per_layer_before"] = r.used_before.per_layer;
  j["per_layer_after"] = r.used_after.per_layer;
  j["per_category"] = per_category_json(r.used_before, r.used_after);
  nlohmann::ordered_json per_pair = nlohmann::ordered_json::array();
  for (size_t i = 0; i < o.bias.pairs.size(); ++i) {
    const PairAnalysis& b = o.bias.pairs[i];
    const double after = r.bias_after.pairs.at(i).mean_difference;
    per_pair.push_back({{"category", b.pair.category},
                        {"prompt1", b.pair.prompt1},
                        {"prompt2", b.pair.prompt2},
                        {"before", b.mean_difference},
                        {"after", after},
                        {"change_percent", percent_change(b.mean_difference, after)},
                        {"note", b.note}});
  }
  j["per_pair"] = per_pair;
  if (r.held_out_before && r.held_out_after) {
    const BiasSummary &hb = *r.held_out_before, &ha = *r.held_out_after;
    j["held_out"] = {{"pairs", hb.pairs},
                     {"mean_difference_before", hb.mean_difference},
                     {"mean_difference_after", ha.mean_difference},
                     {"change_percent", percent_change(hb.mean_difference, ha.mean_difference)},
                     {"per_category", per_category_json(hb, ha)}};
  }
  if (r.perplexity) {
    const PerplexityChange& p = *r.perplexity;
    j["perplexity"] = {{"file", p.file.string()},
                       {"before", text_perplexity_json(p.before)},
                       {"after", text_perplexity_json(p.after)},
                       {"change_percent", percent_change(p.before.token_perplexity, p.after.token_perplexity)}};
  }
  if (r.eval) {
    j["eval_tasks"] = {{"original", eval_run_json(r.eval->before, r.eval->options)},
                       {"pruned", eval_run_json(r.eval->after, r.eval->options)},
                       {"comparison", eval_compare_json(r.eval->before, r.eval->after)}};
  }
  if (!r.continuations.empty()) {
    nlohmann::ordered_json c = nlohmann::ordered_json::array();
    for (const Continuation& x : r.continuations) c.push_back({{"prompt", x.prompt}, {"before", x.before}, {"after", x.after}});
    j["continuations"] = c;
  }
  j["seconds"] = total_seconds(r);
  j["stage_seconds"] = {{"original", stage_json(o.seconds)}, {"pruned", stage_json(r.seconds)}};
  return j;
}

void save_fair_pruned_model(const FairPruneResult& r, const std::filesystem::path& output, OutputFormat format,
                            const std::string& model_name) {
  save_pruned_model(r.model, output, format);
  nlohmann::ordered_json beside;
  beside["source_model"] = model_name;
  beside["plan"] = fairness_plan_json(r.plan, r.kept);
  beside["plan"]["mode"] = prune_mode_name(r.mode);
  beside["pairs"] = nlohmann::ordered_json::array();
  for (const PairAnalysis& p : r.original->bias.pairs) beside["pairs"].push_back({p.pair.prompt1, p.pair.prompt2});
  beside["neuron_bias_scores"] = neuron_scores_json(r.original->bias.neuron_scores);
  const std::filesystem::path side = format == OutputFormat::Gguf ? std::filesystem::path(output.string() + ".fair_prune.json")
                                                                  : output / "fair_prune.json";
  write_json_file(side, beside);
}

}  // namespace optipfair
