// A hostile generation_config.json (found by fuzz/fuzz_tokenizer_config): numbers that do not fit
// the field are an Error naming the key, never undefined behaviour or a silently wrapped value.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "generate/generation_config.h"
#include "util/error.h"

namespace optipfair {
namespace {

std::string update_error(const std::string& text) {
  GenerationConfig c;
  try {
    generation_config_update_from_json(c, nlohmann::json::parse(text));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The fuzzer's input: an integer too large for uint64 parses as a double, and converting 1.69e20
// to int64 was undefined (UBSan: outside the range of representable values of type 'long').
TEST(HostileGenerationConfig, FloatOutsideInt64IsAnError) {
  const std::string msg = update_error(R"({"max_new_tokens": 169223372036854775807})");
  EXPECT_NE(msg.find("max_new_tokens"), std::string::npos) << msg;
  EXPECT_NE(update_error(R"({"top_k": 1e300})"), "(no error)");
  EXPECT_NE(update_error(R"({"num_beams": 18446744073709551615})"), "(no error)");
  EXPECT_NE(update_error(R"({"max_length": 2.5})"), "(no error)");
}

TEST(HostileGenerationConfig, TokenIdsOutsideInt32AreAnError) {
  EXPECT_NE(update_error(R"({"eos_token_id": [2, 4294967298]})").find("eos_token_id"), std::string::npos);
  EXPECT_NE(update_error(R"({"pad_token_id": -2147483649})").find("pad_token_id"), std::string::npos);
}

TEST(HostileGenerationConfig, IntegralFloatsAndIdsInRangeStillLoad) {
  GenerationConfig c;
  generation_config_update_from_json(c, nlohmann::json::parse(R"({"max_new_tokens": 16.0, "eos_token_id": [2, 3],
                                                                  "pad_token_id": 0, "temperature": 0.5})"));
  EXPECT_EQ(c.max_new_tokens, 16);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_DOUBLE_EQ(c.temperature, 0.5);
}

}  // namespace
}  // namespace optipfair
