// What every evaluation task shares, so that each task file holds only its own prompt and metric
// definitions: reading data files (a missing file, a malformed line and a file without a usable
// item are handled one way), --limit, the counts a result reports, few-shot prompts, scoring
// multiple-choice items and bootstrap standard errors. Internal to src/eval.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/eval_tasks.h"
#include "eval/loglikelihood.h"
#include "eval/metrics.h"

namespace optipfair::detail {

// Everything a task needs besides its data; options.data_dir is already resolved.
struct TaskContext {
  const Model& model;
  const Tokenizer& tokenizer;
  const EvalOptions& options;
  LoglikelihoodOptions ll_options(const std::string& label) const;
};

// ---- reading, skips, limits, counts ----

// Malformed items are skipped and counted; the first one's place is kept for the report.
struct SkipCounter {
  int64_t count = 0;
  std::string first;  // "FILE line N"
  void add(const std::string& where);
  void merge(const SkipCounter& other);  // other's items were skipped after this one's
};

// What a task read: filled by the readers and limit_items, reported by task_result.
struct TaskCounts {
  int64_t available = 0;           // usable items in the data, before --limit
  SkipCounter skips;
  std::vector<std::string> files;  // the data files read (relative to the data folder)
};

// The bytes of `relative` under the data folder, recorded in counts.files; when it cannot be
// read, an Error naming the task, the file and where it was looked for.
std::string read_data_file(const TaskContext& tc, const std::string& task, const std::string& relative,
                           TaskCounts& counts);

// Calls parse(object) on every non-blank line of a JSONL text; a line that is not JSON, or that
// parse rejects (by throwing nlohmann::json::exception or Error), is skipped as "FILE line N".
void read_jsonl(const std::string& text, const std::string& file, SkipCounter& skips,
                const std::function<void(const nlohmann::json&)>& parse);

// A JSONL data file as items: parse returns the line's item or throws to have it skipped.
template <class Item>
std::vector<Item> read_jsonl_items(const TaskContext& tc, const std::string& task, const std::string& file,
                                   TaskCounts& counts, const std::function<Item(const nlohmann::json&)>& parse) {
  std::vector<Item> items;
  read_jsonl(read_data_file(tc, task, file, counts), file, counts.skips,
             [&](const nlohmann::json& j) { items.push_back(parse(j)); });
  return items;
}

// The lines of a text, each without a trailing '\r'.
std::vector<std::string> split_lines(const std::string& text);

// Counts `items` as available and keeps the first --limit of them (all of them when the limit is
// 0). Tasks whose data comes in parts (bbq's categories, winobias's types) call it per part.
template <class T>
std::vector<T> limit_items(std::vector<T> items, const TaskContext& tc, TaskCounts& counts) {
  counts.available += static_cast<int64_t>(items.size());
  const int64_t limit = tc.options.limit;
  if (limit > 0 && static_cast<int64_t>(items.size()) > limit) items.resize(static_cast<size_t>(limit));
  return items;
}

// An Error when the files read held no usable item (empty, or every line malformed), naming
// them and the first skipped line: a task never reports a result over nothing.
void require_items(const std::string& task, const TaskCounts& counts);

// The result's name and counts; the caller adds the metrics.
TaskResult task_result(const std::string& task, int64_t num_fewshot, const TaskCounts& counts, int64_t samples);

// A note on stderr when --num-fewshot is given to a task that takes no examples.
void note_no_fewshot(const TaskContext& tc, const std::string& task);

// ---- few-shot prompts ----

constexpr size_t kNotInPool = std::numeric_limits<size_t>::max();

// k distinct indices of [0, pool) other than `exclude`, from a generator seeded by the run's seed
// and the item's index, so an item's examples do not depend on --limit.
std::vector<size_t> sample_fewshot(size_t pool, size_t k, size_t exclude, uint64_t seed, size_t item);

// Item `item`'s prompt: --num-fewshot examples example(e) drawn from a pool of pool_size (the item
// itself, at index `exclude`, left out; kNotInPool when the pool is another split), each followed
// by a blank line (lm-eval's delimiter), then `text`.
std::string fewshot_prompt(const TaskContext& tc, size_t item, size_t pool_size, size_t exclude,
                           const std::function<std::string(size_t)>& example, const std::string& text);

// ---- multiple choice ----

// The model picks the choice with the highest log-likelihood after the context.
struct McItem {
  std::string context;               // few-shot examples already in front
  std::vector<std::string> choices;  // without the delimiter
  size_t gold = 0;
};

struct McScores {
  std::vector<std::vector<double>> lls;  // [item][choice]
};

// One request per choice: context → delimiter + choice; `label` names the task in errors and the
// progress bar.
McScores score_choices(const TaskContext& tc, const std::vector<McItem>& items, const std::string& delimiter,
                       const std::string& label);

// 1 where the highest-scoring choice is the gold one, else 0 (lm-eval's acc).
std::vector<double> choice_accuracy(const std::vector<McItem>& items, const McScores& scores);

// ---- metrics ----

// A mean with lm-eval's mean_stderr.
MetricValue mean_metric(const std::string& name, const std::vector<double>& xs, bool higher_is_better = true);

// A metric of the items with the bootstrap stderr (the run's --bootstrap-iters and --seed).
template <class T, class Metric>
MetricValue bootstrap_metric(const std::string& name, const std::vector<T>& items, const Metric& metric,
                             bool higher_is_better, const TaskContext& tc) {
  const double se = bootstrap_stderr(
      items.size(),
      [&](const std::vector<size_t>& idx) {
        std::vector<T> sample;
        sample.reserve(idx.size());
        for (size_t i : idx) sample.push_back(items[i]);
        return metric(sample);
      },
      tc.options.bootstrap_iters, tc.options.seed);
  return {name, metric(items), se, higher_is_better};
}

}  // namespace optipfair::detail
