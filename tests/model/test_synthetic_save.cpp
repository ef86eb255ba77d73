// save_hf_model round trips through the loader: every tensor byte for byte, the config, narrowed
// layers (zero-padded on disk, true widths after loading), dtype conversion, and the refusals.
#include <cstring>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/load_model.h"
#include "io/model_formats.h"
#include "io/safetensors.h"
#include "model/synthetic.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;

// Row-wise so that strided views (narrowed down_proj) compare by their visible elements only.
void expect_same_tensor(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.present(), b.present()) << what;
  if (!a.present()) return;
  ASSERT_EQ(a.dtype, b.dtype) << what;
  ASSERT_EQ(a.shape, b.shape) << what;
  const size_t row = dtype_bytes(a.dtype, a.cols());
  for (int64_t r = 0; r < a.rows(); ++r)
    ASSERT_EQ(std::memcmp(a.row_data(r), b.row_data(r), row), 0) << what << " row " << r;
}

void expect_same_model(const Model& a, const Model& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  expect_same_tensor(a.tok_embeddings, b.tok_embeddings, "embeddings");
  expect_same_tensor(a.final_norm, b.final_norm, "final norm");
  expect_same_tensor(a.lm_head, b.lm_head, "lm_head");
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const LayerWeights &x = a.layers[i], &y = b.layers[i];
    const std::string l = "layer " + std::to_string(i) + " ";
    expect_same_tensor(x.attn_norm, y.attn_norm, l + "attn_norm");
    expect_same_tensor(x.wq, y.wq, l + "wq");
    expect_same_tensor(x.wk, y.wk, l + "wk");
    expect_same_tensor(x.wv, y.wv, l + "wv");
    expect_same_tensor(x.bq, y.bq, l + "bq");
    expect_same_tensor(x.bk, y.bk, l + "bk");
    expect_same_tensor(x.bv, y.bv, l + "bv");
    expect_same_tensor(x.q_norm, y.q_norm, l + "q_norm");
    expect_same_tensor(x.k_norm, y.k_norm, l + "k_norm");
    expect_same_tensor(x.attn_post_norm, y.attn_post_norm, l + "attn_post_norm");
    expect_same_tensor(x.ffn_post_norm, y.ffn_post_norm, l + "ffn_post_norm");
    expect_same_tensor(x.wo, y.wo, l + "wo");
    expect_same_tensor(x.ffn_norm, y.ffn_norm, l + "ffn_norm");
    expect_same_tensor(x.w_gate, y.w_gate, l + "w_gate");
    expect_same_tensor(x.w_up, y.w_up, l + "w_up");
    expect_same_tensor(x.w_down, y.w_down, l + "w_down");
  }
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(SaveHf, RoundTripsEveryPresetShapeByteForByte) {
  for (const char* preset : {"tiny", "tiny-qwen2", "tiny-qwen3", "tiny-gemma", "tiny-gemma2", "tiny-gemma3",
                             "tiny-phi3"}) {
    for (DType dt : {DType::BF16, DType::F16, DType::F32}) {
      test::ScratchDir dir;
      Model m = make_synthetic_model(preset, dt, 5);
      save_hf_model(m, dir / "out");
      Model back = load_model((dir / "out").string());
      SCOPED_TRACE(std::string(preset) + " " + dtype_name(dt));
      expect_same_model(m, back);
      EXPECT_EQ(back.config.model_type, m.config.model_type);
      EXPECT_EQ(back.config.tie_word_embeddings, m.config.tie_word_embeddings);
      EXPECT_EQ(back.config.head_dim, m.config.head_dim);
      EXPECT_EQ(back.config.rms_norm_eps, m.config.rms_norm_eps);
      EXPECT_EQ(back.config.rope_theta, m.config.rope_theta);
      EXPECT_EQ(back.config.dtype, dt);
      EXPECT_FALSE(fs::exists(dir / "out" / "model.safetensors.index.json"));
    }
  }
}

TEST(SaveHf, WritesTransformersNamesAndConfig) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("smollm2-135m", DType::BF16, 1, 1);
  save_hf_model(m, dir / "llama");
  nlohmann::json cfg = read_json(dir / "llama" / "config.json");
  EXPECT_EQ(cfg["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(cfg["torch_dtype"], "bfloat16");
  EXPECT_EQ(cfg["num_hidden_layers"], 1);
  EXPECT_EQ(cfg["rope_theta"], 100000.0);
  EXPECT_FALSE(cfg.contains("optipfair_intermediate_sizes"));
  SafetensorsFile f = SafetensorsFile::open(dir / "llama" / "model.safetensors");
  EXPECT_EQ(f.metadata()["format"], "pt");
  EXPECT_TRUE(f.has("model.embed_tokens.weight"));
  EXPECT_FALSE(f.has("lm_head.weight"));  // tied
  for (const char* n : {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                        "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                        "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"})
    EXPECT_TRUE(f.has(std::string("model.layers.0.") + n)) << n;
  EXPECT_TRUE(f.has("model.norm.weight"));
  EXPECT_EQ(f.tensors().size(), 11u);
  Model back = load_model((dir / "llama").string());
  EXPECT_EQ(back.config.bos_token_id, 1);
  expect_same_model(m, back);
}

TEST(SaveHf, ConfigKeepsLlama3RopeScaling) {
  nlohmann::json raw = synthetic_hf_config("llama-3.2-1b", DType::BF16, 2);
  ModelConfig c = config_from_hf_json(raw);
  c.raw = raw;
  nlohmann::json written = config_to_hf_json(c);
  EXPECT_EQ(written["rope_scaling"]["rope_type"], "llama3");
  EXPECT_EQ(written["rope_scaling"]["factor"], 32.0);
  ModelConfig back = config_from_hf_json(written);
  EXPECT_EQ(back.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(back.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(back.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(back.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(back.rope_theta, 500000.0);
  EXPECT_EQ(back.bos_token_id, 128000);
  EXPECT_EQ(back.num_hidden_layers, 2);
}

TEST(SaveHf, NarrowedLayersArePaddedOnDiskAndComeBackNarrow) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny", DType::BF16, 9);
  // Layer 1 keeps its first 100 of 128 neurons: a view, as pruning leaves it.
  LayerWeights& l = m.layers[1];
  l.w_gate.shape[0] = 100;
  l.w_up.shape[0] = 100;
  l.w_down.row_stride = 128;
  l.w_down.shape[1] = 100;
  m.config.intermediate_sizes = {128, 100};
  save_hf_model(m, dir / "pruned");

  nlohmann::json cfg = read_json(dir / "pruned" / "config.json");
  EXPECT_EQ(cfg["intermediate_size"], 128);
  EXPECT_EQ(cfg["optipfair_intermediate_sizes"], (nlohmann::json{128, 100}));
  SafetensorsFile f = SafetensorsFile::open(dir / "pruned" / "model.safetensors");
  const Tensor& gate = f.get("model.layers.1.mlp.gate_proj.weight");
  const Tensor& down = f.get("model.layers.1.mlp.down_proj.weight");
  EXPECT_EQ(gate.shape, (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(down.shape, (std::vector<int64_t>{64, 128}));
  const auto* g = static_cast<const uint16_t*>(gate.data);
  for (int64_t i = 100 * 64; i < 128 * 64; ++i) ASSERT_EQ(g[i], 0) << i;
  const auto* d = static_cast<const uint16_t*>(down.data);
  for (int64_t r = 0; r < 64; ++r)
    for (int64_t c = 100; c < 128; ++c) ASSERT_EQ(d[r * 128 + c], 0);

  Model back = load_model((dir / "pruned").string());
  EXPECT_EQ(back.config.intermediate_sizes, (std::vector<int64_t>{128, 100}));
  EXPECT_EQ(back.layers[1].intermediate_size(), 100);
  expect_same_model(m, back);
}

TEST(SaveHf, ConvertsF32ToBf16) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny", DType::F32, 2);
  SaveOptions o;
  o.dtype = DType::BF16;
  save_hf_model(m, dir / "bf16", o);
  EXPECT_EQ(read_json(dir / "bf16" / "config.json")["torch_dtype"], "bfloat16");
  Model back = load_model((dir / "bf16").string());
  ASSERT_EQ(back.layers[0].wq.dtype, DType::BF16);
  const auto* src = static_cast<const float*>(m.layers[0].wq.data);
  const auto* dst = static_cast<const uint16_t*>(back.layers[0].wq.data);
  for (int64_t i = 0; i < m.layers[0].wq.numel(); ++i) ASSERT_EQ(dst[i], f32_to_bf16(src[i])) << i;
  SaveOptions q8;
  q8.dtype = DType::Q8_0;
  EXPECT_THROW(save_hf_model(m, dir / "q8", q8), Error);
}

TEST(SaveHf, ShardsAboveTheLimitWithAnIndex) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny", DType::BF16, 4);
  SaveOptions o;
  o.max_shard_bytes = 40000;
  save_hf_model(m, dir / "sharded", o);
  EXPECT_FALSE(fs::exists(dir / "sharded" / "model.safetensors"));
  nlohmann::json index = read_json(dir / "sharded" / "model.safetensors.index.json");
  const std::string last = index["weight_map"]["lm_head.weight"];
  EXPECT_EQ(last.substr(0, 6), "model-");
  EXPECT_TRUE(fs::exists(dir / "sharded" / ("model-00001-of-" + last.substr(15))));
  Model back = load_model((dir / "sharded").string());
  expect_same_model(m, back);
}

TEST(SaveHf, CopiesTokenizerFilesAndRefusesToOverwriteItsSource) {
  test::ScratchDir dir;
  save_hf_model(make_synthetic_model("tiny", DType::BF16, 1), dir / "a");
  std::ofstream(dir / "a" / "tokenizer.json") << "{\"tok\": 1}";
  std::ofstream(dir / "a" / "generation_config.json") << "{}";
  Model loaded = load_model((dir / "a").string());

  save_hf_model(loaded, dir / "b");
  EXPECT_TRUE(fs::exists(dir / "b" / "tokenizer.json"));
  EXPECT_TRUE(fs::exists(dir / "b" / "generation_config.json"));

  SaveOptions overwrite;
  overwrite.overwrite = true;
  EXPECT_THROW(save_hf_model(loaded, dir / "a", overwrite), Error);
  fs::create_directory_symlink(dir / "a", dir / "link");
  EXPECT_THROW(save_hf_model(loaded, dir / "link", overwrite), Error);
  EXPECT_THROW(save_hf_model(loaded, dir / "a" / ".." / "a/", overwrite), Error);
  expect_same_model(loaded, load_model((dir / "a").string()));  // untouched

  // An existing, non-empty destination needs overwrite; then it is replaced whole.
  EXPECT_THROW(save_hf_model(loaded, dir / "b"), Error);
  std::ofstream(dir / "b" / "stale.txt") << "old";
  save_hf_model(make_synthetic_model("tiny", DType::F32, 1), dir / "b", overwrite);
  EXPECT_FALSE(fs::exists(dir / "b" / "stale.txt"));
  EXPECT_EQ(load_model((dir / "b").string()).layers[0].wq.dtype, DType::F32);
  fs::create_directory(dir / "empty");
  EXPECT_NO_THROW(save_hf_model(loaded, dir / "empty"));
}

size_t entries_in(const fs::path& p) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(p)) ++n;
  return n;
}

TEST(SaveHf, FailureLeavesNothingBehind) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny", DType::BF16, 1);
  m.layers[1].w_up.data = nullptr;  // fails after config.json and part of the weights are written
  EXPECT_THROW(save_hf_model(m, dir / "broken"), Error);
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(SaveHf, ReadOnlyParentIsAnErrorAndLeavesNothing) {
  // Root ignores directory permissions; /proc refuses new folders to everyone.
  if (::geteuid() == 0) {
    EXPECT_THROW(save_hf_model(make_synthetic_model("tiny", DType::BF16, 1), "/proc/optipfair-out"), Error);
    EXPECT_FALSE(fs::exists("/proc/optipfair-out"));
    return;
  }
  test::ScratchDir dir;
  fs::create_directory(dir / "ro");
  fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(save_hf_model(make_synthetic_model("tiny", DType::BF16, 1), dir / "ro" / "out"), Error);
  fs::permissions(dir / "ro", fs::perms::owner_all);
  EXPECT_EQ(entries_in(dir / "ro"), 0u);
}

TEST(SaveHf, UnwritableDestinationIsAnError) {
  test::ScratchDir dir;
  std::ofstream(dir / "file") << "x";  // a file where a parent folder should be
  EXPECT_THROW(save_hf_model(make_synthetic_model("tiny", DType::BF16, 1), dir / "file" / "out"), Error);
}

}  // namespace
}  // namespace optipfair
