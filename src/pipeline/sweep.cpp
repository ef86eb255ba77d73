#include "pipeline/sweep.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <set>
#include <thread>

#include "bias/bias_summary.h"
#include "bias/fairness_pruner.h"
#include "pipeline/fair_prune.h"
#include "pipeline/sweep_journal.h"
#include "util/error.h"
#include "util/progress.h"

namespace optipfair {

namespace {

bool is_bias_task(const std::string& task) {
  return task.rfind("crows_pairs", 0) == 0 || task.rfind("bbq", 0) == 0 || task.rfind("winobias", 0) == 0;
}

WidthTarget width_target(const SweepConfig& c) {
  WidthTarget t;
  t.pruning_percentage = c.percentage;
  t.layer_indices = c.layers.layers;
  return t;
}

FairnessPlan fairness_plan(const SweepConfig& c) {
  FairnessPlan plan;
  static_cast<WidthTarget&>(plan) = width_target(c);
  plan.method = c.method == SweepMethod::Bias ? FairnessMethod::Bias : FairnessMethod::Hybrid;
  if (c.method == SweepMethod::Hybrid) plan.bias_weight = c.bias_weight;
  return plan;
}

// Uniform scores from a generator seeded by (seed, layer): the same neurons on every fold and
// whatever other configurations run, so a random configuration is reproducible by its key.
std::vector<std::vector<float>> random_scores(const Model& model, int seed) {
  std::vector<std::vector<float>> scores(model.layers.size());
  for (size_t l = 0; l < scores.size(); ++l) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + l);
    scores[l].resize(static_cast<size_t>(model.layers[l].intermediate_size()));
    for (float& s : scores[l]) s = static_cast<float>(rng() >> 40) / static_cast<float>(1ull << 24);
  }
  return scores;
}

}  // namespace

PruningPlan sweep_config_plan(const Model& model, const SweepConfig& c, const FairnessPruner& pruner) {
  if (c.method == SweepMethod::Hybrid || c.method == SweepMethod::Bias) return pruner.plan(fairness_plan(c));
  WidthPruningOptions w;
  static_cast<WidthTarget&>(w) = width_target(c);
  w.method = ImportanceMethod::MAW;
  w.scores = c.method == SweepMethod::Importance ? pruner.importance_scores() : random_scores(model, c.seed);
  return plan_width_pruning(model, w);
}

namespace {

std::vector<PromptPair> subset(const std::vector<PromptPair>& pairs, const std::vector<size_t>& indices) {
  std::vector<PromptPair> out;
  for (size_t i : indices) out.push_back(pairs.at(i));
  return out;
}

std::vector<Fold> sweep_folds(const SweepOptions& o) {
  if (!o.eval_pairs.empty()) {
    Fold all;
    for (size_t i = 0; i < o.pairs.size(); ++i) all.train.push_back(i);
    return {all};
  }
  return stratified_folds(o.pairs, sweep_fold_count(o), o.seed);
}

// What every configuration of one fold is measured against.
struct FoldState {
  FairPruneOptions options;  // train pairs as "pairs", the held-out fold as "held_out_pairs"
  std::shared_ptr<const FairPruneOriginal> original;
  std::unique_ptr<FairnessPruner> pruner;
};

std::vector<TaskFigure> task_figures(const EvalChange& e, const std::vector<std::string>& tasks) {
  std::vector<TaskFigure> out;
  for (const std::string& task : tasks) {
    const TaskResult* before = nullptr;
    const TaskResult* after = nullptr;
    for (const TaskResult& t : e.before.results)
      if (t.task == task) before = &t;
    for (const TaskResult& t : e.after.results)
      if (t.task == task) after = &t;
    if (!before || !after || before->metrics.empty() || after->metrics.empty()) continue;
    const MetricValue& b = before->metrics.front();
    const MetricValue& a = after->metrics.front();
    out.push_back({task, b.name, b.higher_is_better, is_bias_task(task), b.value, a.value, a.stderr_value});
  }
  return out;
}

SweepRow row_of(const FairPruneResult& r, const SweepConfig& c, int fold, const FairPruneOptions& fo) {
  SweepRow row;
  row.config = c;
  row.fold = fold;
  row.train_pairs = static_cast<int64_t>(fo.pairs.size());
  row.held_out_pairs = static_cast<int64_t>(fo.held_out_pairs.size());
  row.used_before = r.used_before.mean_difference;
  row.used_after = r.used_after.mean_difference;
  if (r.held_out_before && r.held_out_after) {
    row.held_out_before = r.held_out_before->mean_difference;
    row.held_out_after = r.held_out_after->mean_difference;
    row.held_out_category_before = r.held_out_before->per_category;
    row.held_out_category_after = r.held_out_after->per_category;
  }
  if (r.perplexity) {
    row.perplexity_before = r.perplexity->before.token_perplexity;
    row.perplexity_after = r.perplexity->after.token_perplexity;
  }
  if (r.eval) row.tasks = task_figures(*r.eval, fo.eval.tasks);
  row.parameters = r.parameters_before;
  row.parameters_removed = r.parameters_before - r.parameters_after;
  for (const auto& [stage, s] : r.seconds) row.seconds += s;
  return row;
}

int thread_budget(const SweepOptions& o) { return o.threads > 0 ? o.threads : omp_get_max_threads(); }

}  // namespace

double SweepRow::used_reduction() const { return -percent_change(used_before, used_after); }
double SweepRow::held_out_reduction() const { return -percent_change(held_out_before, held_out_after); }

double SweepRow::capability_retained() const {
  double sum = 0;
  int n = 0;
  for (const TaskFigure& t : tasks) {
    if (t.bias_task) continue;
    const double ratio = t.higher_is_better ? t.after / t.before : t.before / t.after;
    if (!std::isfinite(ratio)) continue;  // a task at 0 before has no ratio
    sum += ratio;
    ++n;
  }
  if (n > 0) return 100 * sum / n;
  if (perplexity_before && perplexity_after && *perplexity_after > 0) return 100 * *perplexity_before / *perplexity_after;
  return NAN;
}

int sweep_fold_count(const SweepOptions& o) {
  if (!o.eval_pairs.empty()) return 1;
  if (o.folds > 0) return o.folds;
  const int64_t smallest = smallest_category_size(o.pairs);
  if (smallest < 2)
    throw Error("cannot split the pairs into held-out folds: some category has a single pair (give --eval-pairs, or "
                "at least 2 pairs per category)");
  return static_cast<int>(std::min<int64_t>(5, smallest));
}

void sweep_validate(const Model& model, const SweepOptions& o) {
  check_fairness_pairs(o.pairs);
  if (!o.eval_pairs.empty()) check_fairness_pairs(o.eval_pairs);
  if (o.jobs < 1) throw Error("--jobs must be at least 1");
  const std::vector<Fold> folds = sweep_folds(o);  // a fold count the categories cannot fill fails here
  for (const Fold& f : folds)
    if (f.train.empty()) throw Error("a fold leaves no pairs to choose the neurons on");
  for (const SweepConfig& c : sweep_grid_expand(o.grid, static_cast<int>(model.layers.size()))) {
    try {
      validate_fairness_plan(model, fairness_plan(c));
    } catch (const Error& e) {
      throw Error("configuration \"" + c.key() + "\" cannot be cut: " + e.what());
    }
  }
  std::error_code ec;
  if (!o.perplexity_text.empty() && !std::filesystem::is_regular_file(o.perplexity_text, ec))
    throw Error("cannot read the perplexity text " + o.perplexity_text.string());
  if (!o.eval.tasks.empty()) resolve_eval_tasks(o.eval.tasks);
}

namespace {

using Work = std::pair<size_t, int>;  // (configuration, fold)

// Takes the journal's rows of this grid into `result` and returns what is left to measure.
std::vector<Work> pending_work(const SweepJournal& journal, const std::map<std::string, size_t>& index_of,
                               SweepResult& result) {
  std::set<std::pair<std::string, int>> done;
  for (const SweepRow& r : journal.rows()) {
    // Rows of configurations no longer in the grid stay in the journal but not in this result.
    if (index_of.count(r.config.key()) && r.fold < result.folds && done.insert({r.config.key(), r.fold}).second) {
      result.rows.push_back(r);
      ++result.resumed;
    }
  }
  std::vector<Work> pending;
  for (size_t c = 0; c < result.configs.size(); ++c)
    for (int f = 0; f < result.folds; ++f)
      if (!done.count({result.configs[c].key(), f})) pending.emplace_back(c, f);
  return pending;
}

std::string work_text(const std::vector<Work>& work) {
  std::string t;
  for (const auto& [c, f] : work) t += std::to_string(c) + " " + std::to_string(f) + "\n";
  return t;
}

std::vector<Work> work_from_text(const std::string& text) {
  std::vector<Work> work;
  std::istringstream in(text);
  size_t c = 0;
  int f = 0;
  while (in >> c >> f) work.emplace_back(c, f);
  return work;
}

// The original's figures for every fold some of `work` needs. Perplexity and tasks do not depend on
// the fold: measured once, shared by all.
std::vector<FoldState> measure_originals(const Model& model, const Tokenizer& tokenizer, const SweepOptions& o,
                                         const std::vector<Fold>& folds, const std::vector<Work>& work,
                                         SweepResult& result) {
  auto lap = [&, t = std::chrono::steady_clock::now()](const std::string& what) mutable {
    const auto now = std::chrono::steady_clock::now();
    result.original_seconds[what] += std::chrono::duration<double>(now - t).count();
    t = now;
  };
  std::optional<TextPerplexity> perplexity;
  std::optional<EvalRun> eval;
  if (!o.perplexity_text.empty()) {
    perplexity = text_file_perplexity(model, tokenizer, o.perplexity_text.string());
    lap("perplexity");
  }
  EvalOptions eval_options = o.eval;
  eval_options.progress = false;
  if (!eval_options.tasks.empty()) {
    eval = run_eval(model, tokenizer, o.model_name, eval_options);
    lap("eval");
  }
  std::vector<FoldState> state(folds.size());
  for (size_t f = 0; f < folds.size(); ++f) {
    if (std::none_of(work.begin(), work.end(), [&](const Work& w) { return w.second == static_cast<int>(f); })) continue;
    FairPruneOptions& fo = state[f].options;
    fo.pairs = subset(o.pairs, folds[f].train);
    fo.held_out_pairs = o.eval_pairs.empty() ? subset(o.pairs, folds[f].held_out) : o.eval_pairs;
    fo.precision = o.precision;
    fo.generate = false;
    fo.progress = false;
    auto original = std::make_shared<FairPruneOriginal>(fair_prune_measure_original(model, tokenizer, fo));
    original->perplexity = perplexity;
    original->eval = eval;
    state[f].pruner = std::make_unique<FairnessPruner>(model, original->bias.neuron_scores);
    state[f].original = std::move(original);
    fo.perplexity_text = o.perplexity_text;  // measured after each cut
    fo.eval = eval_options;
    lap("bias_fold_" + std::to_string(f));
  }
  return state;
}

}  // namespace

SweepResult run_sweep(const Model& model, const Tokenizer& tokenizer, const SweepOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  sweep_validate(model, o);
  const int num_layers = static_cast<int>(model.layers.size());
  const SweepTransport* net = o.transport && o.transport->size > 1 ? o.transport : nullptr;
  const bool root = !net || net->rank == 0;
  SweepResult result;
  result.configs = sweep_grid_expand(o.grid, num_layers);
  const std::vector<Fold> folds = sweep_folds(o);
  result.folds = static_cast<int>(folds.size());
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < result.configs.size(); ++i) index_of[result.configs[i].key()] = i;

  // Only rank 0 touches the journal; the others learn from it what is left.
  SweepJournal journal(root ? o.journal : std::filesystem::path(), sweep_fingerprint(o), num_layers);
  std::vector<Work> pending = root ? pending_work(journal, index_of, result) : std::vector<Work>{};
  if (net) pending = work_from_text(net->broadcast(root ? work_text(pending) : std::string()));
  std::vector<Work> mine;
  for (size_t i = 0; i < pending.size(); ++i)
    if (!net || static_cast<int>(i % static_cast<size_t>(net->size)) == net->rank) mine.push_back(pending[i]);

  Progress progress("sweep", static_cast<int64_t>(pending.size()), o.progress && root);
  std::mutex mutex;  // guards the journal, result.rows, the progress bar and the transport
  size_t accepted = 0;
  auto accept = [&](SweepRow row) {  // with the mutex held
    if (root) journal.append(row);
    result.rows.push_back(std::move(row));
    progress.advance();
    if (root && o.on_row) o.on_row(result.rows.size());
  };
  auto drain = [&](bool wait) {  // rank 0: rows the other ranks sent
    while (net && root && accepted < pending.size() - mine.size()) {
      const std::optional<std::string> text = net->receive(wait);
      if (!text) return;
      const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_discarded()) throw Error("a sweep rank sent a row that is not JSON");
      accept(sweep_row_from_json(j, num_layers));
      ++accepted;
    }
  };

  if (!mine.empty()) {
    std::vector<FoldState> state = measure_originals(model, tokenizer, o, folds, mine, result);
    auto measure_one = [&](size_t i) {
      const auto [c, f] = mine[i];
      const SweepConfig& config = result.configs[c];
      const FoldState& fs = state[static_cast<size_t>(f)];
      FairPruneOptions fo = fs.options;
      fo.plan = fairness_plan(config);
      fo.mode = config.mode;
      FairPruneResult r =
          fair_prune_measure_plan(model, tokenizer, fo, fs.original, sweep_config_plan(model, config, *fs.pruner));
      SweepRow row = row_of(r, config, f, fo);
      r = FairPruneResult{};  // release the cut model before the next one is made
      std::lock_guard<std::mutex> lock(mutex);
      if (net && !root) net->send(sweep_row_json(row).dump());
      accept(std::move(row));
      drain(false);
    };
    const int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(mine.size())));
    if (jobs == 1) {
      for (size_t i = 0; i < mine.size(); ++i) measure_one(i);
    } else {
      std::atomic<size_t> next{0};
      std::exception_ptr failure;
      auto worker = [&](int threads) {
        omp_set_num_threads(threads);  // per thread: each worker's parallel regions use its share
        for (size_t i = next++; i < mine.size(); i = next++) {
          {
            std::lock_guard<std::mutex> lock(mutex);
            if (failure) return;
          }
          try {
            measure_one(i);
          } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!failure) failure = std::current_exception();
            return;
          }
        }
      };
      std::vector<std::thread> workers;
      for (int j = 0; j < jobs; ++j) workers.emplace_back(worker, std::max(1, thread_budget(o) / jobs));
      for (std::thread& t : workers) t.join();
      if (failure) std::rethrow_exception(failure);
    }
  }
  drain(true);
  progress.finish();

  std::sort(result.rows.begin(), result.rows.end(), [&](const SweepRow& a, const SweepRow& b) {
    const size_t ia = index_of.at(a.config.key()), ib = index_of.at(b.config.key());
    return ia != ib ? ia < ib : a.fold < b.fold;
  });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace optipfair
