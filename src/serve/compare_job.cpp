// The comparison job: two models measured on the same pairs.
#include "bias/bias_plots.h"
#include "bias/bias_summary.h"
#include "serve/serve_jobs.h"
#include "util/error.h"

namespace optipfair {

namespace {

class CompareOutput : public JobOutput {
 public:
  CompareOutput(BiasAnalysis a, BiasAnalysis b, CatalogEntry ea, CatalogEntry eb)
      : a_(std::move(a)), b_(std::move(b)), ea_(std::move(ea)), eb_(std::move(eb)) {}

  nlohmann::ordered_json json() const override {
    const BiasSummary sa = bias_summarize(a_), sb = bias_summarize(b_);
    nlohmann::ordered_json j;
    j["model_a"] = ea_.id;
    j["model_b"] = eb_.id;
    j["pairs"] = sa.pairs;
    j["mean_difference_a"] = sa.mean_difference;
    j["mean_difference_b"] = sb.mean_difference;
    j["change_percent"] = percent_change(sa.mean_difference, sb.mean_difference);
    j["per_layer_a"] = sa.per_layer;
    j["per_layer_b"] = sb.per_layer;
    nlohmann::ordered_json cats = nlohmann::ordered_json::object();
    for (const auto& [name, value] : sa.per_category) {
      auto other = sb.per_category.find(name);
      if (other == sb.per_category.end()) continue;
      cats[name.empty() ? "uncategorised" : name] = {{"a", value}, {"b", other->second},
                                                     {"change_percent", percent_change(value, other->second)}};
    }
    j["per_category"] = cats;
    return j;
  }

  std::string figure(const std::string& name, const std::map<std::string, std::string>& params,
                     ImageFormat format) const override {
    if (name != "comparison") throw Error("a comparison has no figure \"" + name + "\" (it has comparison)");
    const Component component = figure_component(params, Component::MlpOutput);
    if (a_.num_layers != b_.num_layers)
      throw Error("the two models have different numbers of layers, so there is no per-layer comparison");
    return bar_chart_render(bias_comparison_chart(a_, b_, component, ea_.label, eb_.label), format);
  }

 private:
  BiasAnalysis a_, b_;
  CatalogEntry ea_, eb_;
};

}  // namespace

JobWork compare_job(const JobContext& context, CompareRequest request) {
  return [context, request = std::move(request)](Job& job) -> std::shared_ptr<const JobOutput> {
    BiasOptions o = bias_metrics_options(request.fast ? Precision::Fast : Precision::Exact);
    o.observer = &job;
    work_step(&job, "load", 0, 2);
    const CatalogEntry ea = catalog_resolve(context.catalog, request.model_a);
    const CatalogEntry eb = catalog_resolve(context.catalog, request.model_b);
    BiasAnalysis a, b;
    {
      const auto loaded = context.pool->get(ea);
      a = analyze_bias(loaded->model, *loaded->tokenizer, request.pairs, o);
    }
    work_step(&job, "load", 1, 2);
    {
      const auto loaded = context.pool->get(eb);
      b = analyze_bias(loaded->model, *loaded->tokenizer, request.pairs, o);
    }
    return std::make_shared<CompareOutput>(std::move(a), std::move(b), ea, eb);
  };
}

}  // namespace optipfair
