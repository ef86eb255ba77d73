// Hostile config.json values found by fuzzing (issue 13): each is refused with an Error naming the
// key, before anything is allocated for it and before any size product can overflow.
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/config.h"
#include "util/error.h"

namespace optipfair {
namespace {

using nlohmann::json;

json tiny_config() {
  return json{{"model_type", "llama"}, {"hidden_size", 8},        {"num_hidden_layers", 2},
              {"num_attention_heads", 2}, {"vocab_size", 16},     {"intermediate_size", 16}};
}

// The Error's message; "(no error)" when parsing succeeds. Any other exception fails the test.
std::string error_of(const json& j) {
  try {
    config_from_hf_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HostileConfig, TinyConfigParses) { EXPECT_EQ(error_of(tiny_config()), "(no error)"); }

// 10^12 layers once reached a vector of one MLP width per layer: an 8 TB allocation.
TEST(HostileConfig, HugeLayerCountIsRefusedBeforeAllocating) {
  json j = tiny_config();
  j["num_hidden_layers"] = 1000000000000;
  EXPECT_EQ(error_of(j), "config has num_hidden_layers 1000000000000, more than the 65536 optipfair supports");
}

TEST(HostileConfig, EverySizeHasALimit) {
  for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                          "head_dim", "vocab_size", "intermediate_size"}) {
    json j = tiny_config();
    j[key] = int64_t{1} << 40;
    const std::string msg = error_of(j);
    EXPECT_NE(msg.find(std::string("config has ") + key + " 1099511627776, more than the"), std::string::npos)
        << key << ": " << msg;
  }
  json j = tiny_config();
  j["optipfair_intermediate_sizes"] = {16, int64_t{1} << 40};
  EXPECT_NE(error_of(j).find("MLP layer of width 1099511627776"), std::string::npos) << error_of(j);
}

// heads x head_dim (ModelConfig::q_dim) overflowed int64 when either was 2^62.
TEST(HostileConfig, HeadLayoutCannotOverflow) {
  json j = tiny_config();
  j["head_dim"] = int64_t{1} << 62;
  EXPECT_NE(error_of(j).find("head_dim 4611686018427387904"), std::string::npos) << error_of(j);
  j = tiny_config();
  j["num_attention_heads"] = int64_t{1} << 62;
  j["num_key_value_heads"] = 1;
  j["head_dim"] = 4;
  EXPECT_NE(error_of(j).find("num_attention_heads 4611686018427387904"), std::string::npos) << error_of(j);
}

TEST(HostileConfig, WrongTypesNameTheKey) {
  json j = tiny_config();
  j["eos_token_id"] = {2, "x"};
  EXPECT_EQ(error_of(j), "config.json: key 'eos_token_id' holds \"x\" where an integer belongs");
  j = tiny_config();
  j["eos_token_id"] = "x";
  EXPECT_EQ(error_of(j), "config.json: key 'eos_token_id' holds \"x\" where an integer belongs");
  j = tiny_config();
  j["optipfair_intermediate_sizes"] = {16, "x"};
  EXPECT_EQ(error_of(j), "config.json: key 'optipfair_intermediate_sizes' holds \"x\" where an integer belongs");
  j = tiny_config();
  j["optipfair_intermediate_sizes"] = "x";
  EXPECT_EQ(error_of(j), "config.json: key 'optipfair_intermediate_sizes' must be a list of integers");
  // Converting 1e300 to an integer is undefined behaviour; a whole float is still an integer.
  j = tiny_config();
  j["head_dim"] = 1e300;
  EXPECT_EQ(error_of(j), "config.json: key 'head_dim' holds 1e+300 where an integer belongs");
  j = tiny_config();
  j["num_key_value_heads"] = 18446744073709551615u;
  EXPECT_EQ(error_of(j), "config.json: key 'num_key_value_heads' holds 18446744073709551615 where an integer belongs");
  j = tiny_config();
  j["head_dim"] = 4.0;
  j["eos_token_id"] = nullptr;
  EXPECT_EQ(error_of(j), "(no error)");
}

// Numbers that allocate nothing but would make every activation NaN or infinite: refused by name.
TEST(HostileConfig, RopeAndNormParametersMustBeUsable) {
  const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& j) { j["rope_theta"] = 0; }, "rope_theta"},
      {[](json& j) { j["rope_theta"] = -10000.0; }, "rope_theta"},
      {[](json& j) { j["rms_norm_eps"] = -1e-6; }, "rms_norm_eps"},
      {[](json& j) { j["max_position_embeddings"] = 0; }, "max_position_embeddings"},
      {[](json& j) { j["model_type"] = "mistral"; j["sliding_window"] = -4; }, "sliding_window"},
      {[](json& j) { j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 0}}; }, "rope_scaling.factor"},
      {[](json& j) {
         j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 32}, {"low_freq_factor", 4}, {"high_freq_factor", 4}};
       }, "high_freq_factor 4.000000 not above low_freq_factor"},
      {[](json& j) {
         j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 32}, {"original_max_position_embeddings", 0}};
       }, "original_max_position_embeddings"},
  };
  for (const auto& [change, key] : cases) {
    json j = tiny_config();
    change(j);
    EXPECT_NE(error_of(j).find(key), std::string::npos) << j.dump() << " -> " << error_of(j);
  }
  json j = tiny_config();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 32}, {"low_freq_factor", 1}, {"high_freq_factor", 4},
                       {"original_max_position_embeddings", 8192}};
  EXPECT_EQ(error_of(j), "(no error)");
}

}  // namespace
}  // namespace optipfair
