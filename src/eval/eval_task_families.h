// The evaluation tasks, by family; eval_tasks.cpp lists them by name. Each reads its files under
// the data folder and returns its result, followed by its sub-tasks' results where it has any.
// Internal to src/eval.
#pragma once
#include <vector>

#include "eval/eval_task_common.h"

namespace optipfair::detail {

// Language modelling (eval_tasks_lm.cpp): log-likelihood of text.
std::vector<TaskResult> run_wikitext(const TaskContext& tc);
std::vector<TaskResult> run_lambada_openai(const TaskContext& tc);

// Multiple choice (eval_tasks_mc.cpp): the most likely answer against the gold one.
std::vector<TaskResult> run_boolq(const TaskContext& tc);
std::vector<TaskResult> run_arc_easy(const TaskContext& tc);
std::vector<TaskResult> run_arc_challenge(const TaskContext& tc);

// Bias benchmarks (eval_tasks_bias.cpp): which of a stereotyped and a less stereotyped text or
// answer the model prefers.
std::vector<TaskResult> run_crows_pairs_english(const TaskContext& tc);
std::vector<TaskResult> run_bbq(const TaskContext& tc);
std::vector<TaskResult> run_winobias(const TaskContext& tc);

}  // namespace optipfair::detail
