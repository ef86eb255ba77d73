// The benchmark tasks of `optipfair eval`, defined as lm-evaluation-harness defines them (see
// docs/evaluation.md for each prompt, metric and where we differ), over files in a data folder.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

struct LoglikelihoodLog;
struct RequestSharing;

struct EvalOptions {
  std::vector<std::string> tasks;  // names from eval_task_names(); "all" for every one
  int64_t limit = 0;               // 0: every item; else the first N (per category / type where noted)
  int64_t num_fewshot = 0;
  uint64_t seed = 1234;            // few-shot sampling and bootstrap
  int64_t batch_size = 8;
  int64_t max_length = 0;          // 0: the model's max_position_embeddings
  int64_t bootstrap_iters = 1000;  // resamples for the stderr of non-mean metrics
  std::filesystem::path data_dir;  // empty: default_eval_data_dir()
  // A task whose files are not in data_dir reads them from the cache, fetched from the Hugging Face
  // Hub first when needed (eval_data_fetch.h); off: a missing file is an Error.
  bool fetch_missing_data = false;
  bool progress = true;
  LoglikelihoodLog* request_log = nullptr;  // when set, receives every request scored and its result
  const RequestSharing* sharing = nullptr;  // ranks of an MPI run: each scores a share of every task's requests
};

struct MetricValue {
  std::string name;                // "acc", "word_perplexity", ...
  double value = 0;
  double stderr_value = 0;         // NaN: not available (lm-eval's "N/A")
  bool higher_is_better = true;
};

struct TaskResult {
  std::string task;                // lm-eval's task name ("crows_pairs_english_gender", ...)
  int64_t num_fewshot = 0;
  int64_t samples = 0;             // items evaluated
  int64_t available = 0;           // items in the data
  int64_t skipped = 0;             // malformed or unusable items left out
  std::string skipped_detail;      // where the first one was
  std::vector<MetricValue> metrics;
  double seconds = 0;
};

// Every task name `--tasks` accepts, in the order they run.
const std::vector<std::string>& eval_task_names();

// $OPTIPFAIR_SHARED/data when that is set, else the shared folder this build was configured with.
std::filesystem::path default_eval_data_dir();

// Expands "all", checks every name (an unknown one is an Error listing the known ones) and
// removes duplicates.
std::vector<std::string> resolve_eval_tasks(const std::vector<std::string>& names);

// Runs the tasks; one result per task, plus one per bias type / category sub-task where the task
// reports them (crows_pairs_english_*). Throws Error for a missing data file, or for data files
// that hold no usable item.
std::vector<TaskResult> run_eval_tasks(const Model& model, const Tokenizer& tokenizer, const EvalOptions& options);

}  // namespace optipfair
