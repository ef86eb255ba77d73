// prune -> save (HF, GGUF) -> load gives the in-memory pruned model's logits; the saved HF folder
// keeps transformers' names and config keys; refused outputs leave the input untouched.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/gguf_file.h"
#include "io/load_model.h"
#include "io/model_formats.h"
#include "model/forward.h"
#include "model/synthetic.h"
#include "prune/apply.h"
#include "prune/depth.h"
#include "prune/prune_model.h"
#include "prune/save_pruned.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<int32_t> kIds = {1, 17, 42, 99, 7, 3, 250, 12};

PruneResult prune(const Model& m, bool per_layer) {
  PruneOptions o;
  o.show_progress = false;
  if (per_layer) o.width.layer_percentages = {{0, 10}, {1, 40}};
  else o.width.pruning_percentage = 25;
  return prune_model(m, o);
}

json safetensors_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  return json::parse(s);
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

struct Case {
  DType dtype;
  bool per_layer;
  OutputFormat format;
};

class PruneRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(PruneRoundTrip, LoadedLogitsEqualInMemory) {
  const Case c = GetParam();
  const Model m = make_synthetic_model("tiny", c.dtype, 11);
  const PruneResult r = prune(m, c.per_layer);
  const std::vector<float> expected = forward_tokens(r.model, kIds);
  test::ScratchDir dir;
  const fs::path out = c.format == OutputFormat::Gguf ? dir / "pruned.gguf" : dir / "pruned";
  save_pruned_model(r.model, out, c.format);
  const Model loaded = load_model(out.string());
  ASSERT_EQ(loaded.layers.size(), r.model.layers.size());
  for (size_t l = 0; l < loaded.layers.size(); ++l)
    EXPECT_EQ(loaded.layers[l].intermediate_size(), r.model.layers[l].intermediate_size()) << "layer " << l;
  EXPECT_EQ(loaded.config.intermediate_sizes, r.stats.intermediate_sizes);
  EXPECT_EQ(loaded.layers[0].w_gate.dtype, c.dtype);
  const std::vector<float> got = forward_tokens(loaded, kIds);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_FLOAT_EQ(got[i], expected[i]) << "logit " << i;

  if (c.format == OutputFormat::HuggingFace) {
    const json cfg = read_json(out / "config.json");
    if (c.per_layer) {
      EXPECT_EQ(cfg["intermediate_size"].get<int64_t>(), r.model.config.intermediate_size);
      EXPECT_EQ(cfg["optipfair_intermediate_sizes"].get<std::vector<int64_t>>(), r.stats.intermediate_sizes);
    } else {
      EXPECT_EQ(cfg["intermediate_size"].get<int64_t>(), r.stats.intermediate_sizes[0]);
      EXPECT_FALSE(cfg.contains("optipfair_intermediate_sizes"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, PruneRoundTrip,
    ::testing::Values(Case{DType::F32, false, OutputFormat::HuggingFace}, Case{DType::BF16, false, OutputFormat::HuggingFace},
                      Case{DType::F32, true, OutputFormat::HuggingFace}, Case{DType::BF16, true, OutputFormat::HuggingFace},
                      Case{DType::F32, false, OutputFormat::Gguf}, Case{DType::BF16, false, OutputFormat::Gguf},
                      Case{DType::F32, true, OutputFormat::Gguf}, Case{DType::BF16, true, OutputFormat::Gguf}),
    [](const ::testing::TestParamInfo<Case>& p) {
      return std::string(dtype_name(p.param.dtype)) + (p.param.per_layer ? "_PerLayer" : "_Uniform") +
             (p.param.format == OutputFormat::Gguf ? "_Gguf" : "_Hf");
    });

// Gemma's extra norms, layer kinds and (1 + w) norms, and Phi-3's fused projections (gate and up
// halves cut together, each padded to the widest layer), through width and depth pruning, both formats.
TEST(PruneRoundTripGemma, WidthAndDepthPrunedReloadWithTheSameLogits) {
  for (const char* preset : {"tiny-gemma", "tiny-gemma2", "tiny-gemma3", "tiny-phi3"}) {
    for (bool per_layer : {false, true}) {
      SCOPED_TRACE(std::string(preset) + (per_layer ? " per-layer" : " uniform"));
      const Model m = make_synthetic_model(preset, DType::BF16, 11);
      const PruneResult r = prune(m, per_layer);
      const Model depth = remove_layers(r.model, {0});  // Gemma 3: the kinds become full, sliding, full
      for (const Model* pruned : {&r.model, &depth}) {
        const std::vector<float> expected = forward_tokens(*pruned, kIds);
        test::ScratchDir dir;
        save_pruned_model(*pruned, dir / "hf", OutputFormat::HuggingFace);
        save_pruned_model(*pruned, dir / "m.gguf", OutputFormat::Gguf);
        for (const char* form : {"hf", "m.gguf"}) {
          const Model loaded = load_model((dir / form).string());
          EXPECT_EQ(loaded.config.layer_types, pruned->config.layer_types) << form;
          EXPECT_EQ(loaded.config.intermediate_sizes, pruned->config.intermediate_sizes) << form;
          const std::vector<float> got = forward_tokens(loaded, kIds);
          ASSERT_EQ(got.size(), expected.size());
          for (size_t i = 0; i < got.size(); ++i) ASSERT_FLOAT_EQ(got[i], expected[i]) << form << " logit " << i;
        }
        const auto& widths = pruned->config.intermediate_sizes;
        if (std::adjacent_find(widths.begin(), widths.end(), std::not_equal_to<>()) != widths.end()) {
          // llama.cpp's gemma archs read one width: narrower layers are zero-padded
          const GgufFile g = GgufFile::open(dir / "m.gguf");
          const std::string arch = g.get_string("general.architecture");
          EXPECT_EQ(g.get_int(arch + ".feed_forward_length"), pruned->config.intermediate_size);
          EXPECT_EQ(g.get_int_array("optipfair.feed_forward_lengths"), widths);
        }
        if (!pruned->config.layer_types.empty()) {
          EXPECT_EQ(read_json(dir / "hf" / "config.json")["layer_types"].size(), pruned->layers.size());
        }
      }
    }
  }
}

TEST(PruneRoundTripReal, Stories260KBothFormats) {
  const fs::path src = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(src / "config.json");
  const Model m = load_model(src.string());
  for (bool per_layer : {false, true}) {
    PruneOptions o;
    o.show_progress = false;
    if (per_layer) o.width.layer_percentages = {{1, 20}, {3, 50}};
    else o.width.pruning_percentage = 37.5;
    const PruneResult r = prune_model(m, o);
    const std::vector<float> expected = forward_tokens(r.model, kIds);
    test::ScratchDir dir;
    save_pruned_model(r.model, dir / "hf", OutputFormat::HuggingFace);
    save_pruned_model(r.model, dir / "m.gguf", OutputFormat::Gguf);
    EXPECT_TRUE(fs::exists(dir / "hf" / "tokenizer.json"));  // companions copied
    // The GGUF file carries the vocabulary (llama.cpp needs it): it encodes as the source does.
    const auto gguf_tok = load_tokenizer(dir / "m.gguf"), hf_tok = load_tokenizer(src);
    EXPECT_EQ(gguf_tok->encode("Lily went to the park. She saw a big dog!"),
              hf_tok->encode("Lily went to the park. She saw a big dog!"));
    for (const fs::path& p : {dir / "hf", dir / "m.gguf"}) {
      const std::vector<float> got = forward_tokens(load_model(p.string()), kIds);
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], 1e-5f) << p << " logit " << i;
    }
    if (per_layer) {
      const json cfg = read_json(dir / "hf" / "config.json");
      EXPECT_EQ(cfg["intermediate_size"].get<int64_t>(), 172);
      EXPECT_EQ(cfg["optipfair_intermediate_sizes"].get<std::vector<int64_t>>(),
                (std::vector<int64_t>{172, 138, 172, 86, 172}));
      // Narrower layers are zero-padded to the widest, the shape transformers expects.
      const json h = safetensors_header(dir / "hf" / "model.safetensors");
      EXPECT_EQ(h["model.layers.3.mlp.gate_proj.weight"]["shape"], json::array({172, 64}));
      EXPECT_EQ(h["model.layers.3.mlp.down_proj.weight"]["shape"], json::array({64, 172}));
    }
  }
}

// What transformers' LlamaForCausalLM (v4.4x, modeling_llama.py / configuration_llama.py) reads:
// its state-dict keys, and the config keys LlamaConfig takes for a Llama-3.2-1B checkpoint.
std::set<std::string> llama_tensor_names(int layers, bool tied) {
  std::set<std::string> names = {"model.embed_tokens.weight", "model.norm.weight"};
  if (!tied) names.insert("lm_head.weight");
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* s : {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.weight",
                          "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                          "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"})
      names.insert(p + s);
  }
  return names;
}
const char* const kLlamaConfigKeys[] = {
    "architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
    "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings",
    "rms_norm_eps", "rope_theta", "rope_scaling", "tie_word_embeddings", "attention_bias", "mlp_bias",
    "bos_token_id", "eos_token_id", "torch_dtype"};

TEST(PruneRoundTripShape, Llama32OneBKeepsTransformersNamesAndKeys) {
  const Model m = make_synthetic_model("llama-3.2-1b", DType::BF16, 5, /*num_layers_override=*/2);
  PruneOptions o;
  o.show_progress = false;
  o.width.pruning_percentage = 20;
  const PruneResult r = prune_model(m, o);
  EXPECT_EQ(r.stats.intermediate_sizes, (std::vector<int64_t>{6554, 6554}));
  test::ScratchDir dir;
  save_pruned_model(r.model, dir / "out", OutputFormat::HuggingFace);

  const json cfg = read_json(dir / "out" / "config.json");
  for (const char* key : kLlamaConfigKeys) EXPECT_TRUE(cfg.contains(key)) << "config.json lacks " << key;
  EXPECT_EQ(cfg["architectures"], json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(cfg["model_type"], "llama");
  EXPECT_EQ(cfg["intermediate_size"], 6554);
  EXPECT_EQ(cfg["num_hidden_layers"], 2);
  EXPECT_EQ(cfg["hidden_size"], 2048);
  EXPECT_EQ(cfg["torch_dtype"], "bfloat16");
  EXPECT_EQ(cfg["rope_scaling"]["rope_type"], "llama3");
  EXPECT_FALSE(cfg.contains("optipfair_intermediate_sizes"));

  json h = safetensors_header(dir / "out" / "model.safetensors");
  std::set<std::string> names;
  for (auto it = h.begin(); it != h.end(); ++it)
    if (it.key() != "__metadata__") names.insert(it.key());
  EXPECT_EQ(names, llama_tensor_names(2, cfg["tie_word_embeddings"].get<bool>()));
  EXPECT_EQ(h["model.layers.1.mlp.up_proj.weight"]["shape"], json::array({6554, 2048}));
  EXPECT_EQ(h["model.layers.1.mlp.down_proj.weight"]["shape"], json::array({2048, 6554}));
  EXPECT_EQ(h["model.layers.0.mlp.gate_proj.weight"]["dtype"], "BF16");
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PruneSaveRefusals, OutputOverTheInputIsRefusedAndInputUntouched) {
  test::ScratchDir dir;
  const Model base = make_synthetic_model("tiny", DType::F32, 3);
  save_hf_model(base, dir / "model");
  save_gguf_model(base, dir / "model.gguf");
  const std::string st_before = file_bytes(dir / "model" / "model.safetensors");
  const std::string gguf_before = file_bytes(dir / "model.gguf");

  const Model hf = load_model((dir / "model").string());
  const PruneResult r = prune(hf, false);
  SaveOptions overwrite;
  overwrite.overwrite = true;
  for (const fs::path& target : {dir / "model", dir.path()}) {
    try {
      save_pruned_model(r.model, target, OutputFormat::HuggingFace, overwrite);
      FAIL() << "wrote over " << target;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("refusing"), std::string::npos) << e.what();
    }
  }
  const Model gg = load_model((dir / "model.gguf").string());
  const PruneResult rg = prune(gg, false);
  EXPECT_THROW(save_pruned_model(rg.model, dir / "model.gguf", OutputFormat::Gguf, overwrite), Error);
  EXPECT_EQ(file_bytes(dir / "model" / "model.safetensors"), st_before);
  EXPECT_EQ(file_bytes(dir / "model.gguf"), gguf_before);
  // The pruned models still run: nothing they map was replaced.
  EXPECT_EQ(forward_tokens(r.model, kIds).size(), kIds.size() * 256);
}

TEST(PruneSaveRefusals, ExistingOutputIsNotReplacedWithoutOverwrite) {
  test::ScratchDir dir;
  const PruneResult r = prune(make_synthetic_model("tiny", DType::F32, 3), false);
  fs::create_directories(dir / "out");
  std::ofstream(dir / "out" / "keep.txt") << "mine";
  EXPECT_THROW(save_pruned_model(r.model, dir / "out", OutputFormat::HuggingFace), Error);
  EXPECT_EQ(file_bytes(dir / "out" / "keep.txt"), "mine");
}

TEST(PruneSaveRefusals, ReadOnlyDirectoryLeavesNothingBehind) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  test::ScratchDir dir;
  const PruneResult r = prune(make_synthetic_model("tiny", DType::F32, 3), false);
  fs::create_directories(dir / "ro");
  ::chmod((dir / "ro").c_str(), 0555);
  EXPECT_THROW(save_pruned_model(r.model, dir / "ro" / "out", OutputFormat::HuggingFace), Error);
  EXPECT_THROW(save_pruned_model(r.model, dir / "ro" / "out.gguf", OutputFormat::Gguf), Error);
  ::chmod((dir / "ro").c_str(), 0755);
  EXPECT_TRUE(fs::is_empty(dir / "ro"));
}

TEST(PruneSaveRefusals, UnwritableLocationLeavesNothingBehind) {
  // A parent that is a file cannot hold a folder, even for root: the save fails, and no partial
  // output or temporary is left beside it.
  test::ScratchDir dir;
  const PruneResult r = prune(make_synthetic_model("tiny", DType::F32, 3), false);
  std::ofstream(dir / "blocker") << "x";
  EXPECT_THROW(save_pruned_model(r.model, dir / "blocker" / "out", OutputFormat::HuggingFace), Error);
  EXPECT_THROW(save_pruned_model(r.model, dir / "blocker" / "out.gguf", OutputFormat::Gguf), Error);
  std::vector<fs::path> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<fs::path>{"blocker"});
}

}  // namespace
}  // namespace optipfair
