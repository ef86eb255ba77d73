// Gemma 1/2/3 configs as transformers reads them: the family's defaults, the layer kinds from
// layer_types or from the fixed patterns, the RoPE bases of sliding and global layers (4.x keys
// and 5.x rope_parameters), the text part of an image-text "gemma3" config, and the refusals.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "io/load_model.h"
#include "io/model_formats.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "model/config.h"
#include "model/forward.h"
#include "model/synthetic.h"
#include "test_support.h"

namespace optipfair {
namespace {

using nlohmann::json;
using LA = LayerAttention;

TEST(GemmaConfig, Gemma3OneBillionShape) {
  const ModelConfig c = config_from_hf_json(synthetic_hf_config("gemma-3-1b", DType::BF16));
  EXPECT_EQ(c.model_type, ModelType::Gemma3);
  EXPECT_EQ(c.hidden_act, HiddenAct::GeluTanh);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.post_norms());
  EXPECT_TRUE(c.tie_word_embeddings);  // the config has no key: Gemma ties
  EXPECT_EQ(c.norm_offset(), 1.0f);
  EXPECT_FLOAT_EQ(c.embedding_scale(), std::sqrt(1152.0f));
  EXPECT_FLOAT_EQ(c.attention_scale(), 1.0f / 16.0f);
  ASSERT_EQ(c.layer_types.size(), 26u);
  for (int l = 0; l < 26; ++l)  // every sixth layer is global
    EXPECT_EQ(c.layer_types[l], (l + 1) % 6 == 0 ? LA::Full : LA::Sliding) << l;
  EXPECT_EQ(c.window_of(0), 512);
  EXPECT_EQ(c.window_of(5), 0);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope_local_theta, 1e4);
  EXPECT_EQ(c.attn_logit_softcapping, 0.0);
  EXPECT_EQ(c.final_logit_softcapping, 0.0);
}

TEST(GemmaConfig, Gemma2AlternatesAndSoftCaps) {
  const ModelConfig c = config_from_hf_json(synthetic_hf_config("gemma-2-2b", DType::F32));
  EXPECT_EQ(c.model_type, ModelType::Gemma2);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_TRUE(c.post_norms());
  for (int l = 0; l < 26; ++l) EXPECT_EQ(c.layer_types[l], l % 2 == 0 ? LA::Sliding : LA::Full) << l;
  EXPECT_EQ(c.attn_logit_softcapping, 50.0);
  EXPECT_EQ(c.final_logit_softcapping, 30.0);
  EXPECT_EQ(c.rope_local_theta, 0.0);  // one RoPE base for every layer
  EXPECT_EQ(c.sliding_window, 4096);
}

TEST(GemmaConfig, Gemma1IsGlobalWithPreMlpNormNamedAsLlama) {
  const ModelConfig c = config_from_hf_json(synthetic_hf_config("gemma-2b", DType::BF16));
  EXPECT_EQ(c.model_type, ModelType::Gemma);
  EXPECT_EQ(c.hidden_act, HiddenAct::GeluTanh);  // hidden_activation, not hidden_act "gelu"
  EXPECT_FALSE(c.post_norms());
  EXPECT_TRUE(c.layer_types.empty());
  EXPECT_EQ(c.window_of(3), 0);
  EXPECT_STREQ(hf_pre_mlp_norm_name(c), "post_attention_layernorm");
  EXPECT_FLOAT_EQ(c.attention_scale(), 1.0f / 16.0f);
}

TEST(GemmaConfig, ImageTextCheckpointIsReadAsItsTextModel) {
  // google/gemma-3-4b-it's config.json (trimmed): the text settings nested, most left to defaults.
  json j = {{"architectures", {"Gemma3ForConditionalGeneration"}}, {"model_type", "gemma3"},
            {"eos_token_id", {1, 106}}, {"torch_dtype", "bfloat16"},
            {"text_config", {{"hidden_size", 2560}, {"intermediate_size", 10240}, {"model_type", "gemma3_text"},
                             {"num_hidden_layers", 34}, {"rope_scaling", {{"factor", 8.0}, {"rope_type", "linear"}}},
                             {"sliding_window", 1024}}},
            {"vision_config", {{"hidden_size", 1152}}}};
  const ModelConfig c = config_from_hf_json(j);
  EXPECT_EQ(c.model_type, ModelType::Gemma3);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.num_attention_heads, 8);    // Gemma3TextConfig's defaults
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.vocab_size, 262208);
  EXPECT_EQ(c.sliding_window, 1024);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::Linear);  // global layers only
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_local_theta, 10000.0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 106}));
  EXPECT_EQ(c.dtype, DType::BF16);
  // Saved as the text model transformers loads on its own.
  const json out = config_to_hf_json(c);
  EXPECT_EQ(out["model_type"], "gemma3_text");
  EXPECT_EQ(out["architectures"][0], "Gemma3ForCausalLM");
  EXPECT_EQ(out["layer_types"].size(), 34u);
  EXPECT_FALSE(out.contains("vision_config"));
}

// An image-text checkpoint: the config nests the text model, the tensors carry the language
// model's prefix (transformers 4.52+: model.language_model.; before: language_model.model., with
// the head under language_model.), beside vision tensors we do not read.
TEST(GemmaConfig, ImageTextCheckpointWeightsLoadUnderEitherPrefix) {
  const Model m = make_synthetic_model("tiny-gemma3", DType::F32, 5);
  const std::vector<int32_t> ids = {2, 40, 41, 42, 7, 9, 200, 13};
  const std::vector<float> want = forward_tokens(m, ids);
  test::ScratchDir dir;
  save_hf_model(m, dir / "text");
  const SafetensorsFile text = SafetensorsFile::open(dir / "text" / "model.safetensors");
  json wrapped = {{"model_type", "gemma3"}, {"architectures", {"Gemma3ForConditionalGeneration"}},
                  {"text_config", json::parse(std::ifstream(dir / "text" / "config.json"))},
                  {"vision_config", {{"hidden_size", 8}}}};
  for (const std::string prefix : {"model.language_model.", "language_model.model."}) {
    SCOPED_TRACE(prefix);
    const auto out = dir / ("wrapped-" + std::to_string(prefix.size()));
    std::filesystem::create_directories(out);
    std::vector<SafetensorsEntry> entries;
    for (const auto& [name, t] : text.tensors())
      entries.push_back({prefix + name.substr(std::string("model.").size()), t.dtype, t.shape, t});
    Tensor vision = text.tensors().at("model.norm.weight");
    entries.push_back({"vision_tower.vision_model.post_layernorm.weight", vision.dtype, vision.shape, vision});
    safetensors_write(out / "model.safetensors", entries);
    std::ofstream(out / "config.json") << wrapped.dump();
    const Model loaded = load_model(out.string());
    EXPECT_EQ(loaded.config.model_type, ModelType::Gemma3);
    EXPECT_EQ(forward_tokens(loaded, ids), want);
  }
}

TEST(GemmaConfig, LayerTypesAndTransformers5RopeParameters) {
  json j = synthetic_hf_config("tiny-gemma3", DType::F32);
  j["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "full_attention"};
  j.erase("rope_theta");
  j.erase("rope_local_base_freq");
  j["rope_parameters"] = {{"full_attention", {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 5e5}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 2e4}}}};
  const ModelConfig c = config_from_hf_json(j);
  EXPECT_EQ(c.layer_types, (std::vector<LA>{LA::Full, LA::Sliding, LA::Sliding, LA::Full}));
  EXPECT_EQ(c.rope_theta, 5e5);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::Linear);
  EXPECT_EQ(c.rope_local_theta, 2e4);
  const json out = config_to_hf_json(c);
  EXPECT_EQ(out["layer_types"][0], "full_attention");
  EXPECT_EQ(out["layer_types"][1], "sliding_attention");
}

TEST(GemmaConfig, BadGemmaConfigsAreOneSentence) {
  auto with = [](const char* key, json v) {
    json j = synthetic_hf_config("tiny-gemma3", DType::F32);
    j[key] = std::move(v);
    return j;
  };
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("layer_types", {"sliding_attention"})); })
                .find("1 layer_types for 4 layers"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("layer_types", {"local", "global", "x", "y"})); })
                .find("layer_types holds \"local\""),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("hidden_activation", "relu")); }).find("activation 'relu'"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("sliding_window", 0)); }).find("no positive sliding_window"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("sliding_window_pattern", 0)); })
                .find("sliding_window_pattern must be positive"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("final_logit_softcapping", -1.0)); })
                .find("final_logit_softcapping"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { config_from_hf_json(with("query_pre_attn_scalar", "big")); })
                .find("'query_pre_attn_scalar' has the wrong type"),
            std::string::npos);
  json no_hidden = synthetic_hf_config("tiny-gemma2", DType::F32);
  no_hidden.erase("hidden_size");
  EXPECT_NE(test::error_of([&] { config_from_hf_json(no_hidden); }).find("no integer 'hidden_size'"), std::string::npos);
}

}  // namespace
}  // namespace optipfair
