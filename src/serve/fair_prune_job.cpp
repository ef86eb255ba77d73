// The fairness-pruning job: run_fair_prune, plus greedy continuations beside the notebook's beams.
#include <fstream>
#include <sstream>

#include "bias/bias_plots.h"
#include "generate/text_generation.h"
#include "pipeline/fair_prune_report.h"
#include "serve/serve_jobs.h"
#include "util/error.h"

namespace optipfair {

namespace {

constexpr int64_t kGreedyNewTokens = 30;

std::vector<std::string> greedy_continuations(const Model& model, const Tokenizer& tokenizer,
                                              const std::vector<std::string>& prompts) {
  GenerationConfig g = generation_config_for_model(model, tokenizer);
  g.num_beams = 1;
  g.do_sample = false;
  g.max_new_tokens = kGreedyNewTokens;
  std::vector<std::string> out;
  for (const TextResult& t : generate_text(model, tokenizer, prompts, g)) out.push_back(t.continuations.at(0));
  return out;
}

}  // namespace

FairPruneOutput::FairPruneOutput(std::shared_ptr<FairPruneResult> result, nlohmann::ordered_json json, std::string model_id)
    : result_(std::move(result)), json_(std::move(json)), model_id_(std::move(model_id)) {}

nlohmann::ordered_json FairPruneOutput::json() const { return json_; }

std::string FairPruneOutput::figure(const std::string& name, const std::map<std::string, std::string>& params,
                                    ImageFormat format) const {
  if (name != "comparison") throw Error("a fairness prune has no figure \"" + name + "\" (it has comparison)");
  const Component component = figure_component(params, Component::MlpOutput);
  return bar_chart_render(
      bias_comparison_chart(result_->original->bias, result_->bias_after, component, "original", "pruned"), format);
}

void FairPruneOutput::save(const std::filesystem::path& dir, OutputFormat format) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (model_dropped_)
    throw Error("this pruned model is no longer in memory (the server keeps the most recent ones only); run the prune again");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) throw Error(dir.filename().string() + " already exists in the output folder; choose another name");
  save_fair_pruned_model(*result_, dir, format, model_id_);
}

std::string FairPruneOutput::report_html(const std::filesystem::path& scratch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::filesystem::path path = write_fair_prune_report(*result_, scratch, {model_id_, "", ImageFormat::PNG});
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw Error("could not read back the report written to " + path.string());
  return text.str();
}

void FairPruneOutput::drop_model() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (model_dropped_) return;
  result_->model = Model{};
  model_dropped_ = true;
}

JobWork fair_prune_job(const JobContext& context, FairPruneRequest request) {
  return [context, request = std::move(request)](Job& job) -> std::shared_ptr<const JobOutput> {
    work_step(&job, "load", 0, 1);
    const CatalogEntry entry = catalog_resolve(context.catalog, request.model);
    const std::shared_ptr<const LoadedModel> loaded = context.pool->get(entry);
    const Model& model = loaded->model;
    FairPruneOptions o;
    o.plan = request.plan;
    o.mode = request.mode;
    o.pairs = request.pairs;
    o.held_out_pairs = request.held_out_pairs;
    o.precision = request.fast ? Precision::Fast : Precision::Exact;
    o.generate = request.generate;
    o.observer = &job;
    o.model_name = entry.id;
    auto result = std::make_shared<FairPruneResult>(run_fair_prune(model, *loaded->tokenizer, o));
    nlohmann::ordered_json j = fair_prune_json(*result, entry.id);
    j["headline"] = fair_prune_headline(*result);
    if (request.generate) {
      std::vector<std::string> prompts;
      for (const PromptPair& p : request.pairs) prompts.insert(prompts.end(), {p.prompt1, p.prompt2});
      work_step(&job, "generate greedy", 0, 2);
      const std::vector<std::string> before = greedy_continuations(model, *loaded->tokenizer, prompts);
      work_step(&job, "generate greedy", 1, 2);
      const std::vector<std::string> after = greedy_continuations(result->model, *loaded->tokenizer, prompts);
      nlohmann::ordered_json g = nlohmann::ordered_json::array();
      for (size_t i = 0; i < prompts.size(); ++i)
        g.push_back({{"prompt", prompts[i]}, {"before", before[i]}, {"after", after[i]}});
      j["greedy_continuations"] = g;
    }
    j["model_id"] = entry.id;
    auto out = std::make_shared<const FairPruneOutput>(std::move(result), std::move(j), entry.id);
    if (context.on_pruned) context.on_pruned(out);
    return out;
  };
}

}  // namespace optipfair
