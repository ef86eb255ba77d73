#include "pipeline/fair_prune.h"

#include <chrono>
#include <cmath>

#include "generate/text_generation.h"
#include "model/param_count.h"
#include "util/error.h"

namespace optipfair {

namespace {

// Appends (stage, seconds since the previous lap) to a StageTimes.
class StageClock {
 public:
  explicit StageClock(StageTimes& out) : out_(out) {}
  void lap(const char* stage) {
    const auto now = std::chrono::steady_clock::now();
    out_.emplace_back(stage, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  StageTimes& out_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

BiasOptions measure_options(const FairPruneOptions& o, bool keep_plots) {
  BiasOptions b = bias_metrics_options(o.precision);
  b.progress = o.progress;
  b.observer = o.observer;
  if (keep_plots) {
    b.keep_plot_data = true;
    b.plot_layers = "all";
    b.plot_pairs = 1;
  }
  return b;
}

std::vector<std::string> prompts_of(const std::vector<PromptPair>& pairs) {
  std::vector<std::string> prompts;
  for (const PromptPair& p : pairs) prompts.insert(prompts.end(), {p.prompt1, p.prompt2});
  return prompts;
}

std::vector<std::string> continuations_of(const Model& model, const Tokenizer& tokenizer,
                                          const std::vector<PromptPair>& pairs, WorkObserver* observer) {
  work_step(observer, "generate", 0, 1);
  const GenerationConfig g = notebook_beam_config(model, tokenizer);
  std::vector<std::string> out;
  for (const TextResult& t : generate_text(model, tokenizer, prompts_of(pairs), g)) out.push_back(t.continuations.at(0));
  return out;
}

std::string model_name(const Model& model, const FairPruneOptions& o) {
  if (!o.model_name.empty()) return o.model_name;
  return model.source.empty() ? "model" : model.source.string();
}

}  // namespace

void fair_prune_validate(const Model& model, const FairPruneOptions& o) {
  check_fairness_pairs(o.pairs);
  validate_fairness_plan(model, o.plan);
  std::error_code ec;
  if (!o.perplexity_text.empty() && !std::filesystem::is_regular_file(o.perplexity_text, ec))
    throw Error("cannot read the perplexity text " + o.perplexity_text.string());
  if (!o.eval.tasks.empty()) resolve_eval_tasks(o.eval.tasks);  // an unknown name fails now
}

FairPruneOriginal fair_prune_measure_original(const Model& model, const Tokenizer& tokenizer,
                                              const FairPruneOptions& o) {
  FairPruneOriginal r;
  StageClock clock(r.seconds);
  r.parameters = count_parameters(model).total();
  // One pass over the pairs gives both the "before" figures and the neuron scores.
  r.bias = analyze_bias(model, tokenizer, o.pairs, measure_options(o, o.keep_plot_data));
  clock.lap("bias_before");
  if (!o.held_out_pairs.empty()) {
    r.held_out = analyze_bias(model, tokenizer, o.held_out_pairs, measure_options(o, false));
    clock.lap("held_out_before");
  }
  if (!o.perplexity_text.empty()) {
    work_step(o.observer, "perplexity", 0, 1);
    r.perplexity = text_file_perplexity(model, tokenizer, o.perplexity_text.string());
    clock.lap("perplexity_before");
  }
  if (!o.eval.tasks.empty()) {
    r.eval = run_eval(model, tokenizer, model_name(model, o), o.eval);
    clock.lap("eval_before");
  }
  if (o.generate) {
    r.continuations = continuations_of(model, tokenizer, o.pairs, o.observer);
    clock.lap("generate_before");
  }
  return r;
}

FairPruneResult fair_prune_measure_plan(const Model& model, const Tokenizer& tokenizer, const FairPruneOptions& o,
                                        std::shared_ptr<const FairPruneOriginal> original, PruningPlan kept) {
  if (!original) throw Error("fair_prune_measure_plan needs the original model's measurements");
  FairPruneResult r;
  StageClock clock(r.seconds);
  r.plan = o.plan;
  r.mode = o.mode;
  r.parameters_before = original->parameters;
  r.parameters_after = r.parameters_before - plan_parameters_removed(model, kept);
  work_step(o.observer, "prune", 0, 1);
  r.model = apply_pruning_plan(model, kept, o.mode);
  r.kept = std::move(kept);
  clock.lap("prune");

  r.bias_after = analyze_bias(r.model, tokenizer, o.pairs, measure_options(o, o.keep_plot_data));
  r.used_before = bias_summarize(original->bias);
  r.used_after = bias_summarize(r.bias_after);
  clock.lap("bias_after");
  if (original->held_out) {
    r.held_out_before = bias_summarize(*original->held_out);
    r.held_out_after = bias_summarize(analyze_bias(r.model, tokenizer, o.held_out_pairs, measure_options(o, false)));
    clock.lap("held_out_after");
  }
  if (original->perplexity) {
    r.perplexity = PerplexityChange{o.perplexity_text, *original->perplexity,
                                    text_file_perplexity(r.model, tokenizer, o.perplexity_text.string())};
    clock.lap("perplexity_after");
  }
  if (original->eval) {
    r.eval = EvalChange{o.eval, *original->eval, run_eval(r.model, tokenizer, "pruned", o.eval)};
    clock.lap("eval_after");
  }
  if (!original->continuations.empty()) {
    const std::vector<std::string> after = continuations_of(r.model, tokenizer, o.pairs, o.observer);
    const std::vector<std::string> prompts = prompts_of(o.pairs);
    for (size_t i = 0; i < prompts.size(); ++i)
      r.continuations.push_back({prompts[i], original->continuations.at(i), after.at(i)});
    clock.lap("generate_after");
  }
  r.original = std::move(original);
  return r;
}

FairPruneResult run_fair_prune(const Model& model, const Tokenizer& tokenizer, const FairPruneOptions& o) {
  fair_prune_validate(model, o);  // refuse before any measuring
  auto original = std::make_shared<FairPruneOriginal>(fair_prune_measure_original(model, tokenizer, o));
  StageClock clock(original->seconds);
  const FairnessPruner pruner(model, original->bias.neuron_scores);
  PruningPlan kept = pruner.plan(o.plan);
  clock.lap("plan");
  return fair_prune_measure_plan(model, tokenizer, o, std::move(original), std::move(kept));
}

int fair_prune_most_changed_layer(const FairPruneResult& r) {
  int best = 0;
  double change = -1;
  for (size_t l = 0; l < r.used_before.per_layer.size() && l < r.used_after.per_layer.size(); ++l) {
    const double c = std::fabs(r.used_after.per_layer[l] - r.used_before.per_layer[l]);
    if (c > change) {
      change = c;
      best = static_cast<int>(l);
    }
  }
  return best;
}

}  // namespace optipfair
