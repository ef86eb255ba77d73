// What `optipfair eval` writes: lm-eval's results JSON layout and its terminal table, and the
// side-by-side comparison of two models.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/eval_tasks.h"

namespace optipfair {

struct EvalRun {
  std::string model_path;
  int64_t num_parameters = 0;
  double seconds = 0;
  std::vector<TaskResult> results;
};

// Runs the tasks on a model in memory and times them; model_path names it in the output.
EvalRun run_eval(const Model& model, const Tokenizer& tokenizer, const std::string& model_path,
                 const EvalOptions& options);

// {"results": {task: {"alias", "<metric>,none", "<metric>_stderr,none", ...}}, "higher_is_better",
// "n-samples", "config": {model, model_num_parameters, ...}, "total_evaluation_time_seconds"}.
// Values that are not available (NaN) are written as "N/A", as lm-eval writes them.
nlohmann::json eval_run_json(const EvalRun& run, const EvalOptions& options);

// lm-eval's markdown table: | Tasks | n-shot | Metric | | Value | | Stderr |
std::string eval_table(const EvalRun& run);

// Both runs side by side: | Tasks | Metric | | original | pruned | diff |, and the JSON of it
// ({task: {metric: {"original", "pruned", "diff"}}}).
std::string eval_compare_table(const EvalRun& original, const EvalRun& pruned);
nlohmann::json eval_compare_json(const EvalRun& original, const EvalRun& pruned);

}  // namespace optipfair
