// The analysis job: analyze_bias on the pairs, figures drawn from its capture on request.
#include <algorithm>
#include <numeric>

#include "bias/bias_analysis.h"
#include "bias/bias_plots.h"
#include "serve/serve_jobs.h"
#include "util/error.h"

namespace optipfair {

namespace {

constexpr size_t kTopNeurons = 20;

class AnalysisOutput : public JobOutput {
 public:
  AnalysisOutput(BiasAnalysis analysis, CatalogEntry entry, double seconds_to_load)
      : analysis_(std::move(analysis)), entry_(std::move(entry)), seconds_to_load_(seconds_to_load) {}

  nlohmann::ordered_json json() const override {
    nlohmann::ordered_json j;
    j["model"] = {{"id", entry_.id}, {"label", entry_.label}, {"num_layers", analysis_.num_layers}};
    j["summary"] = bias_summary_json(analysis_);
    j["bias_metrics"] = bias_metrics_json(analysis_);
    nlohmann::ordered_json tokens = nlohmann::ordered_json::array();
    for (const PairAnalysis& pa : analysis_.pairs) {
      nlohmann::ordered_json t;
      t["kept_for_figures"] = !pa.kept.empty();
      t["tokens1"] = pa.tokens1;
      t["tokens2"] = pa.tokens2;
      t["alignment"] = pa.alignment.describe();
      if (!pa.kept.empty()) {
        nlohmann::ordered_json per_token = nlohmann::ordered_json::object();
        for (const KeyDifference& d : pa.differences) per_token[d.key] = d.per_token;
        t["per_token"] = per_token;
      }
      tokens.push_back(std::move(t));
    }
    j["tokens"] = tokens;
    nlohmann::ordered_json neurons = nlohmann::ordered_json::object();
    for (size_t l = 0; l < analysis_.neuron_scores.per_layer.size(); ++l) {
      const std::vector<float>& s = analysis_.neuron_scores.per_layer[l];
      std::vector<size_t> idx(s.size());
      std::iota(idx.begin(), idx.end(), 0);
      const size_t k = std::min(kTopNeurons, idx.size());
      std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                        [&](size_t a, size_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (size_t i = 0; i < k; ++i) top.push_back({{"neuron", idx[i]}, {"score", s[idx[i]]}});
      neurons["layer_" + std::to_string(l)] = top;
    }
    j["top_neurons"] = neurons;
    j["seconds_to_load"] = seconds_to_load_;
    return j;
  }

  std::string figure(const std::string& name, const std::map<std::string, std::string>& params,
                     ImageFormat format) const override {
    const Component component = figure_component(params, Component::MlpOutput);
    const int64_t n = static_cast<int64_t>(analysis_.pairs.size());
    auto it = params.find("pair");
    if (name == "mean_diff" && (it == params.end() || it->second == "all"))
      return bar_chart_render(mean_diff_chart_all_pairs(analysis_, component), format);
    const size_t pair = static_cast<size_t>(figure_int(params, "pair", 0, 0, n - 1));
    const PairAnalysis& pa = analysis_.pairs[pair];
    if (name == "mean_diff") return bar_chart_render(mean_diff_chart(pa, pair, component), format);
    const int layer = static_cast<int>(figure_int(params, "layer", 0, 0, analysis_.num_layers - 1));
    const std::string key = activation_key(component, layer);
    if (pa.kept.find(key) == pa.kept.end())
      throw Error("pair " + std::to_string(pair + 1) + " has no token-level activations kept (figures cover the first " +
                  "pairs only); move it to the top of the list");
    if (name == "heatmap") {
      const int units = static_cast<int>(figure_int(params, "units", 32, 1, 256));
      return heatmap_render(difference_heatmap(pa, pair, key, units), format);
    }
    if (name == "pca") {
      ScatterPlot plot = token_pca_plot(pa, pair, key);
      if (figure_int(params, "highlight", 1, 0, 1) == 0) {
        for (ScatterSeries& s : plot.series)
          for (ScatterPoint& p : s.points) p.highlighted = false;
        plot.highlight_meaning.clear();
      }
      return scatter_plot_render(plot, format);
    }
    throw Error("an analysis has no figure \"" + name + "\" (it has mean_diff, heatmap and pca)");
  }

 private:
  BiasAnalysis analysis_;
  CatalogEntry entry_;
  double seconds_to_load_;
};

}  // namespace

Component figure_component(const std::map<std::string, std::string>& params, Component fallback) {
  auto it = params.find("component");
  return it == params.end() ? fallback : component_from_name(it->second);
}

int64_t figure_int(const std::map<std::string, std::string>& params, const std::string& name, int64_t fallback,
                   int64_t lo, int64_t hi) {
  auto it = params.find(name);
  if (it == params.end()) return fallback;
  int64_t v = 0;
  size_t used = 0;
  try {
    v = std::stoll(it->second, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != it->second.size() || v < lo || v > hi)
    throw Error("\"" + name + "\" must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

JobWork analyze_job(const JobContext& context, AnalyzeRequest request) {
  return [context, request = std::move(request)](Job& job) -> std::shared_ptr<const JobOutput> {
    work_step(&job, "load", 0, 1);
    const CatalogEntry entry = catalog_resolve(context.catalog, request.model);
    const std::shared_ptr<const LoadedModel> loaded = context.pool->get(entry);
    BiasOptions o;
    o.plot_layers = "all";
    o.plot_components = {kAllComponents.begin(), kAllComponents.end()};
    o.plot_pairs = request.plot_pairs;
    o.keep_plot_data = request.plot_pairs > 0;
    o.precision = request.fast ? Precision::Fast : Precision::Exact;
    o.progress = false;
    o.observer = &job;
    BiasAnalysis analysis = analyze_bias(loaded->model, *loaded->tokenizer, request.pairs, o);
    return std::make_shared<AnalysisOutput>(std::move(analysis), entry, loaded->seconds_to_load);
  };
}

}  // namespace optipfair
