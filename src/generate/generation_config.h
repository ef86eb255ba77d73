// The knobs of text generation, with Hugging Face GenerationConfig's names, meanings and defaults.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace optipfair {

// HF's early_stopping: True stops a prompt's beam search once num_beams hypotheses are finished;
// False and "never" keep going while a running beam could still beat the worst finished one,
// estimated at the current length (False) or, with a positive length_penalty, at max_length ("never").
enum class EarlyStopping { False, True, Never };

struct GenerationConfig {
  int64_t max_length = 20;         // prompt tokens + new tokens
  int64_t max_new_tokens = -1;     // when >= 0, wins over max_length
  bool do_sample = false;
  int64_t num_beams = 1;
  double temperature = 1.0;
  int64_t top_k = 50;              // only used when sampling, as in HF; 0 turns it off
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  int64_t no_repeat_ngram_size = 0;
  EarlyStopping early_stopping = EarlyStopping::False;
  double length_penalty = 1.0;
  int64_t num_return_sequences = 1;
  uint64_t seed = 0;
  std::vector<int32_t> eos_token_ids;  // a hypothesis stops at any of them
  int32_t pad_token_id = -1;
};

// Throws Error with one sentence for a value HF would also refuse (num_beams 0, temperature <= 0
// when sampling, top_p outside [0, 1], ...).
void generation_config_validate(const GenerationConfig& config);

// The total length (prompt included) generation stops at for a prompt of `prompt_length` tokens;
// throws Error when that leaves no room for a new token.
int64_t generation_max_length(const GenerationConfig& config, int64_t prompt_length);

// "true"/"false"/"never" (any case, also "1"/"0").
EarlyStopping early_stopping_from_string(std::string_view text);
std::string early_stopping_to_string(EarlyStopping value);

// Overwrites the fields a Hugging Face generation_config.json sets; other keys are ignored.
void generation_config_update_from_json(GenerationConfig& config, const nlohmann::json& j);

nlohmann::json generation_config_to_json(const GenerationConfig& config);

}  // namespace optipfair
