// The sweep: is a fairness cut's bias reduction real? Every configuration of a grid (sweep_grid.h)
// is cut and measured on pairs it was not chosen on (held-out folds or a separate pair file), beside
// random cuts of the same size and ordinary importance pruning, with what it costs in capability.
//
// Each configuration on each fold is one fair_prune_measure_plan call against that fold's original
// figures, which are measured once per fold (the neuron scores, the "before" bias); perplexity and
// evaluation tasks of the original are measured once for all folds. Each finished row is appended to
// the journal (sweep.jsonl) at once, and a re-run with the same settings skips the rows it holds.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bias/fairness_pruner.h"
#include "bias/prompt_pairs.h"
#include "eval/eval_tasks.h"
#include "kernels/matmul.h"
#include "model/model.h"
#include "pipeline/sweep_grid.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

// How rows travel when one sweep runs as several processes (MPI ranks; the command's transport is
// in src/cli). Every rank measures every size-th row of the work left; rank 0 reads and writes the
// journal, receives the other ranks' rows as they finish and returns them all. Rows travel as
// sweep_row_json text, which reads back to the same doubles, so the result does not depend on the
// number of ranks.
struct SweepTransport {
  int rank = 0;
  int size = 1;
  // Rank 0's text on every rank (rank 0 passes its own).
  std::function<std::string(const std::string& text)> broadcast;
  // Rank > 0: one row to rank 0.
  std::function<void(const std::string& row)> send;
  // Rank 0: a row from any rank; with wait false, nullopt when none has arrived.
  std::function<std::optional<std::string>(bool wait)> receive;
};

struct SweepOptions {
  SweepGrid grid;
  std::vector<PromptPair> pairs;       // choose the neurons (all but the held-out fold)
  std::vector<PromptPair> eval_pairs;  // given: neurons chosen on all `pairs`, bias measured on these (no folds)
  int folds = 0;                       // 0: 5, or fewer when the smallest category has fewer pairs
  uint64_t seed = 1234;                // fold split
  Precision precision = Precision::Exact;
  std::filesystem::path perplexity_text;  // empty: no perplexity
  EvalOptions eval;                       // eval.tasks empty: no evaluation tasks
  int jobs = 1;                        // configurations measured at once (threads split between them)
  int threads = 0;                     // thread budget (0: all cores)
  bool progress = false;               // a bar with ETA on stderr
  std::filesystem::path journal;       // sweep.jsonl: rows appended as they finish; empty: kept in memory only
  std::string model_name;              // recorded in the journal: a resume must be on the same model
  const SweepTransport* transport = nullptr;  // null: this process alone
  // Called after each row is journalled (tests stop a sweep midway through it); may throw.
  std::function<void(size_t rows_done)> on_row;
};

// What one evaluation task gave before and after, on its headline metric.
struct TaskFigure {
  std::string task;
  std::string metric;
  bool higher_is_better = true;
  bool bias_task = false;  // crows_pairs / bbq / winobias: a bias measure, not capability
  double before = 0, after = 0, stderr_after = 0;
};

// One configuration on one fold.
struct SweepRow {
  SweepConfig config;
  int fold = 0;                  // 0-based; 0 when measured on --eval-pairs
  int64_t train_pairs = 0, held_out_pairs = 0;
  double used_before = 0, used_after = 0;          // mean_difference on the pairs that chose the neurons
  double held_out_before = 0, held_out_after = 0;  // on the held-out fold (or --eval-pairs)
  std::map<std::string, double> held_out_category_before, held_out_category_after;
  std::optional<double> perplexity_before, perplexity_after;  // token perplexity
  std::vector<TaskFigure> tasks;
  int64_t parameters = 0, parameters_removed = 0;  // removed: zeroed ones for mode zero
  double seconds = 0;

  // Percent reductions (positive: less bias than the original).
  double used_reduction() const;
  double held_out_reduction() const;
  // Capability retained, percent: the mean ratio (pruned / original, inverted where lower is
  // better) of the capability tasks' headline metrics; without such tasks the perplexity ratio
  // original / pruned; NaN when neither was measured.
  double capability_retained() const;
};

nlohmann::ordered_json sweep_row_json(const SweepRow& row);
// Throws Error on a line that is not a row (the journal's reader reports where).
SweepRow sweep_row_from_json(const nlohmann::json& j, int num_layers);

struct SweepResult {
  std::vector<SweepConfig> configs;   // the grid, in order
  int folds = 0;                      // 1 with --eval-pairs
  std::vector<SweepRow> rows;         // one per configuration and fold, sorted in grid order, then fold
                                      // (on ranks other than 0: only the rows this rank measured)
  size_t resumed = 0;                 // rows read back from the journal instead of measured
  double seconds = 0;                 // wall time of this run
  std::map<std::string, double> original_seconds;  // measuring the original: per fold bias, perplexity, eval
};

// The number of folds run_sweep uses for these options (after the default) — 1 with eval_pairs.
int sweep_fold_count(const SweepOptions& options);

// Throws Error, before anything is measured, for what would fail later: no pairs, a grid with no
// valid configuration, a fold count the categories cannot fill, a plan the model cannot take, an
// unreadable perplexity text, an unknown task.
void sweep_validate(const Model& model, const SweepOptions& options);

// Which neurons a configuration keeps: a fairness plan from the fold's scores (hybrid, bias), MAW
// width pruning (importance), or uniform random scores seeded by the configuration's seed and the
// layer (random) — always counted by the same width planner, so every method removes the same
// number of neurons from each layer.
PruningPlan sweep_config_plan(const Model& model, const SweepConfig& config, const FairnessPruner& pruner);

SweepResult run_sweep(const Model& model, const Tokenizer& tokenizer, const SweepOptions& options);

}  // namespace optipfair
