#include "eval/inference_timing.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "generate/text_generation.h"
#include "model/forward.h"
#include "util/error.h"

namespace optipfair {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void summarize(const std::vector<double>& times, double* avg, double* mn, double* mx) {
  *avg = std::accumulate(times.begin(), times.end(), 0.0) / static_cast<double>(times.size());
  *mn = *std::min_element(times.begin(), times.end());
  *mx = *std::max_element(times.begin(), times.end());
}

}  // namespace

InferenceTiming time_inference(const Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                               int64_t max_new_tokens, int64_t num_runs, int64_t warmup_runs) {
  if (num_runs < 1) throw Error("time_inference needs at least one timed run");
  if (max_new_tokens < 1) throw Error("time_inference needs at least one new token");
  GenerationConfig config = generation_config_for_model(model, tokenizer);
  config.max_new_tokens = max_new_tokens;
  config.do_sample = false;
  config.num_beams = 1;
  const std::vector<std::string> prompts = {prompt};
  InferenceTiming t;
  for (int64_t i = 0; i < warmup_runs; ++i) generate_text(model, tokenizer, prompts, config);
  for (int64_t i = 0; i < num_runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<TextResult> r = generate_text(model, tokenizer, prompts, config);
    t.times.push_back(seconds_since(start));
    t.prompt_tokens = static_cast<int64_t>(r[0].prompt_ids.size());
    t.tokens_generated = static_cast<int64_t>(r[0].sequences[0].tokens.size() - r[0].prompt_ids.size());
    t.output_text = r[0].texts[0];
  }
  summarize(t.times, &t.avg_time, &t.min_time, &t.max_time);
  t.tokens_per_second = t.avg_time > 0 ? static_cast<double>(t.tokens_generated) / t.avg_time : 0;
  return t;
}

PromptThroughput time_prompt_processing(const Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                                        int64_t tokens, int64_t num_runs, int64_t warmup_runs) {
  if (tokens < 1 || num_runs < 1) throw Error("prompt processing needs at least one token and one timed run");
  const std::vector<int32_t> base = prompt_encode(tokenizer, prompt);
  std::vector<int32_t> ids;
  while (static_cast<int64_t>(ids.size()) < tokens) ids.insert(ids.end(), base.begin(), base.end());
  ids.resize(static_cast<size_t>(tokens));
  PromptThroughput p;
  p.tokens = tokens;
  std::vector<double> times;
  for (int64_t i = 0; i < warmup_runs + num_runs; ++i) {
    KVCache cache(model.config, tokens);
    const SequenceInput in{ids, &cache};
    const auto start = std::chrono::steady_clock::now();
    forward(model, std::span<const SequenceInput>(&in, 1), LogitsMode::Last);
    if (i >= warmup_runs) times.push_back(seconds_since(start));
  }
  double mx = 0;
  summarize(times, &p.avg_time, &p.min_time, &mx);
  p.tokens_per_second = p.avg_time > 0 ? static_cast<double>(tokens) / p.avg_time : 0;
  return p;
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

nlohmann::json inference_timing_json(const InferenceTiming& t) {
  return {{"avg_time", t.avg_time},           {"min_time", t.min_time},
          {"max_time", t.max_time},           {"tokens_generated", t.tokens_generated},
          {"tokens_per_second", t.tokens_per_second}, {"times", t.times},
          {"prompt_tokens", t.prompt_tokens}, {"output_text", t.output_text}};
}

nlohmann::json compare_models_inference(const Model& original, const Model& pruned, const Tokenizer& tokenizer,
                                        const std::vector<std::string>& prompts, int64_t max_new_tokens,
                                        int64_t num_runs, int64_t warmup_runs) {
  if (prompts.empty()) throw Error("compare_models_inference needs at least one prompt");
  nlohmann::json j;
  j["prompts"] = nlohmann::json::array();
  double speedup = 0, tps = 0, orig_avg = 0, pruned_avg = 0, orig_tps = 0, pruned_tps = 0;
  for (const auto& p : prompts) {
    const InferenceTiming a = time_inference(original, tokenizer, p, max_new_tokens, num_runs, warmup_runs);
    const InferenceTiming b = time_inference(pruned, tokenizer, p, max_new_tokens, num_runs, warmup_runs);
    const double s = b.avg_time > 0 ? a.avg_time / b.avg_time : 0;
    const double imp = a.tokens_per_second > 0 ? (b.tokens_per_second / a.tokens_per_second - 1.0) * 100.0 : 0;
    j["prompts"].push_back({{"prompt", p},
                            {"original", inference_timing_json(a)},
                            {"pruned", inference_timing_json(b)},
                            {"speedup", s},
                            {"tps_improvement_percent", imp}});
    speedup += s;
    tps += imp;
    orig_avg += a.avg_time;
    pruned_avg += b.avg_time;
    orig_tps += a.tokens_per_second;
    pruned_tps += b.tokens_per_second;
  }
  const double n = static_cast<double>(prompts.size());
  j["original"] = {{"avg_time", orig_avg / n}, {"tokens_per_second", orig_tps / n}};
  j["pruned"] = {{"avg_time", pruned_avg / n}, {"tokens_per_second", pruned_tps / n}};
  j["speedup"] = speedup / n;
  j["tps_improvement_percent"] = tps / n;
  return j;
}

}  // namespace optipfair
