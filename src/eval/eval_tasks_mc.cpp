// Multiple-choice tasks: BoolQ (no / yes after a passage and a question) and ARC (a science
// question's answer among 3-5 choices), as lm-eval defines them.
#include <algorithm>
#include <string>
#include <vector>

#include "eval/eval_task_families.h"
#include "eval/eval_text.h"
#include "util/error.h"

namespace optipfair::detail {

using nlohmann::json;

namespace {

struct BoolqDoc {
  std::string prompt;
  size_t label = 0;  // index into {"no", "yes"}
};

BoolqDoc boolq_doc(const json& j) {
  const json& l = j.at("label");
  bool yes = false;
  if (l.is_boolean()) yes = l.get<bool>();
  else if (l.is_string() && (l == "true" || l == "false")) yes = l == "true";
  else if (l.is_number_integer()) yes = l.get<int>() == 1;
  else throw Error("label");
  return {j.at("passage").get<std::string>() + "\nQuestion: " + j.at("question").get<std::string>() + "?\nAnswer:",
          yes ? 1u : 0u};
}

struct ArcDoc {
  std::string prompt;
  std::vector<std::string> choices;
  size_t gold = 0;
};

ArcDoc arc_doc(const json& j) {
  ArcDoc d;
  const json& q = j.at("question");
  d.prompt = "Question: " + q.at("stem").get<std::string>() + "\nAnswer:";
  const std::string key = j.at("answerKey").get<std::string>();
  bool found = false;
  for (const json& c : q.at("choices")) {
    if (c.at("label").get<std::string>() == key) {
      d.gold = d.choices.size();
      found = true;
    }
    d.choices.push_back(c.at("text").get<std::string>());
  }
  if (!found || d.choices.size() < 2) throw Error("answer key");
  return d;
}

// arc_easy and arc_challenge: the test split of `stem` ("ARC-Easy"), few-shot examples from its
// dev split.
std::vector<TaskResult> run_arc(const TaskContext& tc, const std::string& task, const std::string& stem) {
  TaskCounts counts;
  const std::vector<ArcDoc> docs =
      limit_items(read_jsonl_items<ArcDoc>(tc, task, "arc/" + stem + "-Test.jsonl", counts, arc_doc), tc, counts);
  require_items(task, counts);
  std::vector<ArcDoc> dev;
  if (tc.options.num_fewshot > 0) {
    TaskCounts dev_counts;
    dev = read_jsonl_items<ArcDoc>(tc, task, "arc/" + stem + "-Dev.jsonl", dev_counts, arc_doc);
    dev_counts.available = static_cast<int64_t>(dev.size());
    require_items(task, dev_counts);
    counts.skips.merge(dev_counts.skips);
  }

  std::vector<McItem> items;
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string context = fewshot_prompt(
        tc, i, dev.size(), kNotInPool, [&](size_t e) { return dev[e].prompt + " " + dev[e].choices[dev[e].gold]; },
        docs[i].prompt);
    items.push_back({context, docs[i].choices, docs[i].gold});
  }
  const McScores s = score_choices(tc, items, " ", task);
  std::vector<double> acc_norm;
  for (size_t i = 0; i < items.size(); ++i) {
    // lm-eval divides by len(choice): Python code points, without the leading space.
    std::vector<double> lengths;
    for (const auto& c : items[i].choices) lengths.push_back(static_cast<double>(std::max<int64_t>(1, utf8_length(c))));
    acc_norm.push_back(argmax_normalized(s.lls[i], lengths) == items[i].gold ? 1.0 : 0.0);
  }
  TaskResult r = task_result(task, tc.options.num_fewshot, counts, static_cast<int64_t>(items.size()));
  r.metrics.push_back(mean_metric("acc", choice_accuracy(items, s)));
  r.metrics.push_back(mean_metric("acc_norm", acc_norm));
  return {r};
}

}  // namespace

std::vector<TaskResult> run_boolq(const TaskContext& tc) {
  const std::string task = "boolq";
  static const std::vector<std::string> choices = {"no", "yes"};
  TaskCounts counts;
  const std::vector<BoolqDoc> docs = read_jsonl_items<BoolqDoc>(tc, task, "boolq/val.jsonl", counts, boolq_doc);
  const std::vector<BoolqDoc> evaluated = limit_items(docs, tc, counts);  // few-shot examples come from all docs
  require_items(task, counts);

  std::vector<McItem> items;
  for (size_t i = 0; i < evaluated.size(); ++i) {
    const std::string context = fewshot_prompt(
        tc, i, docs.size(), i, [&](size_t e) { return docs[e].prompt + " " + choices[docs[e].label]; },
        evaluated[i].prompt);
    items.push_back({context, choices, evaluated[i].label});
  }
  const McScores s = score_choices(tc, items, " ", task);
  TaskResult r = task_result(task, tc.options.num_fewshot, counts, static_cast<int64_t>(items.size()));
  r.metrics.push_back(mean_metric("acc", choice_accuracy(items, s)));
  return {r};
}

std::vector<TaskResult> run_arc_easy(const TaskContext& tc) { return run_arc(tc, "arc_easy", "ARC-Easy"); }

std::vector<TaskResult> run_arc_challenge(const TaskContext& tc) {
  return run_arc(tc, "arc_challenge", "ARC-Challenge");
}

}  // namespace optipfair::detail
