// `optipfair bench`: the Python library's time_inference and compare_models_inference (greedy
// generation timed after warm-up runs), plus prompt-processing throughput and peak memory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

struct InferenceTiming {
  std::vector<double> times;        // seconds per timed run
  double avg_time = 0, min_time = 0, max_time = 0;
  int64_t prompt_tokens = 0;
  int64_t tokens_generated = 0;     // new tokens of the last timed run
  double tokens_per_second = 0;     // tokens_generated / avg_time, as the Python library computes it
  std::string output_text;          // the last run's text, prompt included
};

// Greedy generation of up to max_new_tokens after `prompt`, warmup_runs untimed then num_runs timed.
InferenceTiming time_inference(const Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                               int64_t max_new_tokens, int64_t num_runs, int64_t warmup_runs);

struct PromptThroughput {
  int64_t tokens = 0;               // prompt length processed in one forward pass
  double avg_time = 0, min_time = 0;
  double tokens_per_second = 0;     // tokens / avg_time
};

// Prompt processing (prefill): `tokens` tokens of `prompt` repeated, one forward pass, timed.
PromptThroughput time_prompt_processing(const Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                                        int64_t tokens, int64_t num_runs, int64_t warmup_runs);

// The process's peak resident set size so far, in bytes (0 where the system does not say).
int64_t peak_rss_bytes();

// time_inference's dictionary: avg_time, min_time, max_time, tokens_generated, tokens_per_second
// (the Python keys) plus times, prompt_tokens, output_text.
nlohmann::json inference_timing_json(const InferenceTiming& t);

// compare_models_inference: both models on every prompt; per-prompt timings and, over the
// prompts, speedup (original avg_time / pruned avg_time) and tps_improvement_percent
// ((pruned tokens/s / original tokens/s - 1) * 100), averaged.
nlohmann::json compare_models_inference(const Model& original, const Model& pruned, const Tokenizer& tokenizer,
                                        const std::vector<std::string>& prompts, int64_t max_new_tokens,
                                        int64_t num_runs, int64_t warmup_runs);

}  // namespace optipfair
