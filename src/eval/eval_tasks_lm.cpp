// Language-modelling tasks: WikiText (rolling log-likelihood of whole articles) and LAMBADA (the
// last word of a passage), as lm-eval defines them.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "eval/eval_task_families.h"
#include "eval/eval_text.h"
#include "util/error.h"

namespace optipfair::detail {

using nlohmann::json;

std::vector<TaskResult> run_wikitext(const TaskContext& tc) {
  const std::string task = "wikitext";
  note_no_fewshot(tc, task);
  TaskCounts counts;
  std::vector<std::string> all_pages =
      wikitext_split_documents(read_data_file(tc, task, "wikitext-2-raw/wiki.test.raw", counts));
  // An empty file still splits into one blank page: that is no article.
  if (std::all_of(all_pages.begin(), all_pages.end(), [](const std::string& p) { return python_strip(p).empty(); }))
    all_pages.clear();
  const std::vector<std::string> pages = limit_items(std::move(all_pages), tc, counts);
  require_items(task, counts);

  std::vector<std::string> targets;
  for (const auto& p : pages) targets.push_back(wikitext_detokenize(p));
  const std::vector<double> lls = run_loglikelihood_rolling(tc.model, tc.tokenizer, targets, tc.ll_options(task));
  // (log-likelihood, weight) per article: words of the original page, or its bytes.
  std::vector<std::pair<double, double>> words, bytes;
  for (size_t i = 0; i < pages.size(); ++i) {
    words.emplace_back(lls[i], static_cast<double>(count_words_python(pages[i])));
    bytes.emplace_back(lls[i], static_cast<double>(pages[i].size()));
  }
  TaskResult r = task_result(task, 0, counts, static_cast<int64_t>(pages.size()));
  r.metrics.push_back(bootstrap_metric("word_perplexity", words, weighted_perplexity, false, tc));
  r.metrics.push_back(bootstrap_metric("byte_perplexity", bytes, weighted_perplexity, false, tc));
  r.metrics.push_back(bootstrap_metric("bits_per_byte", bytes, bits_per_byte, false, tc));
  return {r};
}

namespace {

struct LambadaDoc {
  std::string context;  // the text up to its last space
  std::string target;   // " " + the last word
};

}  // namespace

std::vector<TaskResult> run_lambada_openai(const TaskContext& tc) {
  const std::string task = "lambada_openai";
  TaskCounts counts;
  const std::vector<LambadaDoc> docs = read_jsonl_items<LambadaDoc>(
      tc, task, "lambada_openai/lambada_test.jsonl", counts, [](const json& j) {
        const std::string t = j.at("text").get<std::string>();
        const size_t sp = t.rfind(' ');  // text.split(' ')[-1] is what follows the last space
        if (sp == std::string::npos) throw Error("no space");
        return LambadaDoc{t.substr(0, sp), t.substr(sp)};  // the target keeps its space
      });
  const std::vector<LambadaDoc> evaluated = limit_items(docs, tc, counts);  // few-shot examples come from all docs
  require_items(task, counts);

  std::vector<LoglikelihoodRequest> reqs;
  for (size_t i = 0; i < evaluated.size(); ++i) {
    const std::string context = fewshot_prompt(
        tc, i, docs.size(), i, [&](size_t e) { return docs[e].context + docs[e].target; }, evaluated[i].context);
    auto [c, t] = encode_pair(tc.tokenizer, context, evaluated[i].target);
    reqs.push_back({std::move(c), std::move(t)});
  }
  const auto res = run_loglikelihood(tc.model, reqs, tc.ll_options(task));
  std::vector<double> lls, acc;
  for (const auto& x : res) {
    lls.push_back(x.logprob);
    acc.push_back(x.is_greedy ? 1.0 : 0.0);
  }
  TaskResult r = task_result(task, tc.options.num_fewshot, counts, static_cast<int64_t>(evaluated.size()));
  r.metrics.push_back(bootstrap_metric("perplexity", lls, perplexity, false, tc));
  r.metrics.push_back(mean_metric("acc", acc));
  return {r};
}

}  // namespace optipfair::detail
