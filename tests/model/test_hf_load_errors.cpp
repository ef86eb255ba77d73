// Bad Hugging Face folders give one clear error sentence, never a crash.
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/load_model.h"
#include "model/model.h"
#include "util/error.h"
#include "test_support.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A copy of stories260K-hf in a scratch folder that a test may then damage.
class DamagedFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = test::shared_path("models/stories260K-hf");
    if (!fs::exists(src_)) GTEST_SKIP() << "shared asset missing: " << src_;
    for (const auto& e : fs::directory_iterator(src_)) fs::copy_file(e.path(), dir_ / e.path().filename());
    for (const auto& e : fs::directory_iterator(dir_.path()))
      fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write);
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  json config() { return json::parse(read("config.json")); }
  void set_config(const json& j) { write("config.json", j.dump(2)); }
  // Expects load_model to throw an Error whose message contains `needle`.
  void expect_error(const std::string& needle) {
    try {
      load_model(dir_.path().string());
      FAIL() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  fs::path src_;
  test::ScratchDir dir_;
};

TEST_F(DamagedFolder, IntactCopyLoads) {
  const Model m = load_model(dir_.path().string());
  EXPECT_EQ(m.config.hidden_size, 64);
  EXPECT_EQ(m.config.intermediate_sizes, std::vector<int64_t>(5, 172));
  EXPECT_EQ(m.lm_head.data, m.tok_embeddings.data);  // tied
}

TEST_F(DamagedFolder, TruncatedSafetensors) {
  const std::string bytes = read("model.safetensors");
  write("model.safetensors", bytes.substr(0, bytes.size() / 2));
  expect_error("truncated");
}

TEST_F(DamagedFolder, TooShortToHoldAHeader) {
  write("model.safetensors", "abc");
  expect_error("not a safetensors file");
}

TEST_F(DamagedFolder, HeaderLengthPastTheEnd) {
  std::string bytes = read("model.safetensors");
  uint64_t huge = bytes.size() * 2;
  std::memcpy(bytes.data(), &huge, 8);
  write("model.safetensors", bytes);
  expect_error("truncated or corrupt");
}

TEST_F(DamagedFolder, HeaderOffsetsOverrunTheFile) {
  std::string bytes = read("model.safetensors");
  uint64_t len;
  std::memcpy(&len, bytes.data(), 8);
  json header = json::parse(bytes.substr(8, len));
  auto& t = header["model.norm.weight"];
  t["data_offsets"] = {bytes.size(), bytes.size() + 256};
  std::string text = header.dump();
  text.resize(len, ' ');  // keep the data section where it was
  ASSERT_LE(header.dump().size(), len);
  write("model.safetensors", bytes.substr(0, 8) + text + bytes.substr(8 + len));
  expect_error("model.norm.weight");
}

TEST_F(DamagedFolder, CorruptHeaderJson) {
  std::string bytes = read("model.safetensors");
  bytes[8] = '#';  // the opening brace
  write("model.safetensors", bytes);
  expect_error("corrupt safetensors header");
}

TEST_F(DamagedFolder, ShapeDisagreesWithConfig) {
  json c = config();
  c["intermediate_size"] = 160;
  set_config(c);
  expect_error("has shape [172, 64] but the config implies [160, 64]");
}

TEST_F(DamagedFolder, MissingShard) {
  fs::rename(dir_ / "model.safetensors", dir_ / "model-00001-of-00002.safetensors");
  json index = {{"metadata", json::object()},
                {"weight_map",
                 {{"model.norm.weight", "model-00001-of-00002.safetensors"},
                  {"model.embed_tokens.weight", "model-00002-of-00002.safetensors"}}}};
  write("model.safetensors.index.json", index.dump());
  expect_error("shard model-00002-of-00002.safetensors");
}

TEST_F(DamagedFolder, UnknownArchitectureIsRefusedByName) {
  json c = config();
  c["model_type"] = "gpt2";
  set_config(c);
  expect_error("architecture 'gpt2' is not supported (supported: llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, phi3)");
}

TEST_F(DamagedFolder, NonGluActivationIsRefused) {
  json c = config();
  c["hidden_act"] = "gelu";
  set_config(c);
  expect_error("activation 'gelu' is not supported: optipfair runs gated MLPs with silu or gelu_pytorch_tanh");
}

TEST_F(DamagedFolder, MissingConfig) {
  fs::remove(dir_ / "config.json");
  try {
    load_model(dir_.path().string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos);
  }
}

// Issue 13's class of fault in the shard index: a weight_map entry that is not a file name.
TEST_F(DamagedFolder, ShardIndexEntryThatIsNotAFileName) {
  fs::remove(dir_ / "model.safetensors");
  write("model.safetensors.index.json", R"({"weight_map": {"model.embed_tokens.weight": 5}})");
  expect_error("model.safetensors.index.json: weight_map gives 5 as the file of 'model.embed_tokens.weight'");
}

TEST(LoadModel, NonexistentPathIsAClearError) {
  try {
    load_model("/nonexistent/folder/model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no model at"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace optipfair
