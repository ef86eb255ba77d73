// The three kinds of work the page asks for, each a library call wrapped as a job: its output keeps
// what the figures are drawn from, so changing the layer, component or pair on the page draws a new
// figure without running the model again.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "pipeline/fair_prune.h"
#include "prune/save_pruned.h"
#include "serve/job_queue.h"
#include "serve/model_pool.h"
#include "serve/serve_requests.h"

namespace optipfair {

class FairPruneOutput;

// What every job needs besides its request: where models come from, and who keeps count of the
// pruned models held in memory.
struct JobContext {
  ModelPool* pool = nullptr;
  CatalogOptions catalog;
  std::function<void(const std::shared_ptr<const FairPruneOutput>&)> on_pruned;
};

// Bias analysis of one or many pairs. JSON: the bias summary (all pairs, per category), the Python
// library's metrics per pair, our aligned metrics and per-token differences for the pairs kept for
// figures, the most biased neurons of every layer. Figures: "mean_diff" (component, pair or
// "all"), "heatmap" and "pca" (component, layer, pair; pca also "highlight").
JobWork analyze_job(const JobContext& context, AnalyzeRequest request);

// A fairness prune: fair_prune.json's keys, greedy continuations beside the beam ones, and the
// per-layer comparison figure "comparison" (component). The pruned model stays in memory so that
// it can be saved, until drop_model() is called.
class FairPruneOutput : public JobOutput {
 public:
  FairPruneOutput(std::shared_ptr<FairPruneResult> result, nlohmann::ordered_json json, std::string model_id);
  nlohmann::ordered_json json() const override;
  std::string figure(const std::string& name, const std::map<std::string, std::string>& params,
                     ImageFormat format) const override;
  // Saves the pruned model as `dir` (which must not exist); throws Error when it was dropped.
  void save(const std::filesystem::path& dir, OutputFormat format) const;
  // The report.html of `optipfair fair-prune`, written under `scratch` and returned as text.
  std::string report_html(const std::filesystem::path& scratch) const;
  void drop_model() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<FairPruneResult> result_;
  mutable bool model_dropped_ = false;
  nlohmann::ordered_json json_;
  std::string model_id_;
};

JobWork fair_prune_job(const JobContext& context, FairPruneRequest request);

// Two models on the same pairs: both summaries, the change, and the figure "comparison" (component).
JobWork compare_job(const JobContext& context, CompareRequest request);

// Figure parameters shared by the outputs.
Component figure_component(const std::map<std::string, std::string>& params, Component fallback);
int64_t figure_int(const std::map<std::string, std::string>& params, const std::string& name, int64_t fallback,
                   int64_t lo, int64_t hi);

}  // namespace optipfair
