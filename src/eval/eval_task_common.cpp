#include "eval/eval_task_common.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "eval/eval_text.h"
#include "util/error.h"

namespace optipfair::detail {

using nlohmann::json;

LoglikelihoodOptions TaskContext::ll_options(const std::string& label) const {
  LoglikelihoodOptions o;
  o.batch_size = options.batch_size;
  o.max_length = options.max_length;
  o.progress_label = options.progress ? label : "";
  o.log = options.request_log;
  o.sharing = options.sharing;
  return o;
}

void SkipCounter::add(const std::string& where) {
  if (count++ == 0) first = where;
}

void SkipCounter::merge(const SkipCounter& other) {
  if (count == 0) first = other.first;
  count += other.count;
}

std::string read_data_file(const TaskContext& tc, const std::string& task, const std::string& relative,
                           TaskCounts& counts) {
  const std::filesystem::path path = tc.options.data_dir / relative;
  // A file that is there but unreadable must not be reported as missing (nor, for a folder, which
  // opens but reads as nothing, as empty).
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  const std::string unreadable =
      "task " + task + " found the data file " + relative + " at " + path.string() + " but cannot read it";
  if (exists && std::filesystem::is_directory(path, ec)) throw Error(unreadable + " (it is a folder)");
  std::ifstream in(path, std::ios::binary);
  if (!in && exists) throw Error(unreadable + " (check its permissions)");
  if (!in)
    throw Error("task " + task + " needs the data file " + relative + ", which was not found at " + path.string() +
                " (point --data-dir at a folder holding it)");
  std::ostringstream ss;
  ss << in.rdbuf();
  counts.files.push_back(relative);
  return ss.str();
}

void read_jsonl(const std::string& text, const std::string& file, SkipCounter& skips,
                const std::function<void(const json&)>& parse) {
  std::istringstream in(text);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (python_strip(line).empty()) continue;
    try {
      parse(json::parse(line));
    } catch (const json::exception&) {
      skips.add(file + " line " + std::to_string(n));
    } catch (const Error&) {
      skips.add(file + " line " + std::to_string(n));
    }
  }
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

void require_items(const std::string& task, const TaskCounts& counts) {
  if (counts.available > 0) return;
  std::string files;
  for (const auto& f : counts.files) files += (files.empty() ? "" : ", ") + f;
  if (counts.skips.count > 0)
    throw Error("task " + task + " found no usable item in " + files + " (" + std::to_string(counts.skips.count) +
                " skipped as malformed or unusable; first: " + counts.skips.first + ")");
  throw Error("task " + task + " found no item in " + files + (counts.files.size() == 1 ? ", which is empty" : ", which are empty"));
}

TaskResult task_result(const std::string& task, int64_t num_fewshot, const TaskCounts& counts, int64_t samples) {
  TaskResult r;
  r.task = task;
  r.num_fewshot = num_fewshot;
  r.samples = samples;
  r.available = counts.available;
  r.skipped = counts.skips.count;
  r.skipped_detail = counts.skips.first;
  return r;
}

void note_no_fewshot(const TaskContext& tc, const std::string& task) {
  if (tc.options.num_fewshot > 0)
    std::fprintf(stderr, "optipfair: note: %s takes no few-shot examples; --num-fewshot is ignored for it\n",
                 task.c_str());
}

std::vector<size_t> sample_fewshot(size_t pool, size_t k, size_t exclude, uint64_t seed, size_t item) {
  std::vector<size_t> out;
  const size_t available = pool - (exclude < pool ? 1 : 0);
  k = std::min(k, available);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + item + 1);
  std::uniform_int_distribution<size_t> pick(0, pool - 1);
  std::set<size_t> seen;
  while (out.size() < k) {
    const size_t i = pick(rng);
    if (i == exclude || !seen.insert(i).second) continue;
    out.push_back(i);
  }
  return out;
}

std::string fewshot_prompt(const TaskContext& tc, size_t item, size_t pool_size, size_t exclude,
                           const std::function<std::string(size_t)>& example, const std::string& text) {
  std::string prompt;
  for (size_t e : sample_fewshot(pool_size, static_cast<size_t>(tc.options.num_fewshot), exclude, tc.options.seed, item))
    prompt += example(e) + "\n\n";
  return prompt + text;
}

McScores score_choices(const TaskContext& tc, const std::vector<McItem>& items, const std::string& delimiter,
                       const std::string& label) {
  std::vector<LoglikelihoodRequest> reqs;
  for (const auto& it : items)
    for (const auto& c : it.choices) {
      auto [ctx, cont] = encode_pair(tc.tokenizer, it.context, delimiter + c);
      if (cont.empty()) throw Error("task " + label + ": the choice \"" + c + "\" encodes to no token after its context");
      reqs.push_back({std::move(ctx), std::move(cont)});
    }
  const auto res = run_loglikelihood(tc.model, reqs, tc.ll_options(label));
  McScores s;
  size_t r = 0;
  for (const auto& it : items) {
    s.lls.emplace_back();
    for (size_t c = 0; c < it.choices.size(); ++c, ++r) s.lls.back().push_back(res[r].logprob);
  }
  return s;
}

std::vector<double> choice_accuracy(const std::vector<McItem>& items, const McScores& scores) {
  std::vector<double> acc;
  for (size_t i = 0; i < items.size(); ++i) acc.push_back(argmax_first(scores.lls[i]) == items[i].gold ? 1.0 : 0.0);
  return acc;
}

MetricValue mean_metric(const std::string& name, const std::vector<double>& xs, bool higher_is_better) {
  return {name, mean(xs), mean_stderr(xs), higher_is_better};
}

}  // namespace optipfair::detail
