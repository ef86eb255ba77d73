// llama2.c checkpoints: the stories260K file against the independently converted Hugging Face copy
// of the same weights (the proof of the interleaved -> rotate-half Q/K conversion), and bad files.
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "io/model_formats.h"
#include "io/qk_permute.h"
#include "test_gguf_tensor_compare.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

std::filesystem::path stories_bin() { return test::shared_path("models/stories260K/stories260K.bin"); }

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(QkPermute, MapsAreInverse) {
  for (int64_t hd : {2, 4, 8, 64, 128})
    for (int64_t r = 0; r < 3 * hd; ++r) {
      EXPECT_EQ(qk_half_row(qk_interleaved_row(r, hd), hd), r);
      EXPECT_EQ(qk_interleaved_row(qk_half_row(r, hd), hd), r);
    }
  // Head of 4: rotate-half rows (0, 1 | 2, 3) pair as (0,2), (1,3); interleaved as (0,1), (2,3).
  EXPECT_EQ(qk_interleaved_row(0, 4), 0);
  EXPECT_EQ(qk_interleaved_row(1, 4), 2);
  EXPECT_EQ(qk_interleaved_row(2, 4), 1);
  EXPECT_EQ(qk_interleaved_row(3, 4), 3);
  EXPECT_EQ(qk_interleaved_row(5, 4), 6);
}

TEST(Llama2c, Stories260KConfig) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  Model m = load_llama2c_model(stories_bin());
  const ModelConfig& c = m.config;
  EXPECT_EQ(m.format, "llama2c");
  EXPECT_EQ(c.model_type, ModelType::Llama);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.num_hidden_layers, 5);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(m.lm_head.data, m.tok_embeddings.data);
  int64_t params = m.tok_embeddings.numel() + m.final_norm.numel();
  for (const LayerWeights& w : m.layers)
    params += w.attn_norm.numel() + w.wq.numel() + w.wk.numel() + w.wv.numel() + w.wo.numel() +
              w.ffn_norm.numel() + w.w_gate.numel() + w.w_up.numel() + w.w_down.numel();
  EXPECT_EQ(params, 260032);
}

TEST(Llama2c, SameWeightsAsHuggingFaceCopy) {
  auto hf_dir = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  OPTIPFAIR_REQUIRE_SHARED(hf_dir);
  Model a = load_llama2c_model(stories_bin());
  Model b = load_hf_model(hf_dir);
  EXPECT_EQ(a.config.rms_norm_eps, b.config.rms_norm_eps);
  EXPECT_EQ(a.config.rope_theta, b.config.rope_theta);
  test::expect_models_eq(b, a);
  // The conversion matters: the file's own (interleaved) rows of wq differ from Hugging Face's.
  const size_t wq_offset = 28 + 4 * (512 * 64 + 5 * 64);
  const std::string raw = read_file(stories_bin()).substr(wq_offset, 64 * 64 * 4);
  EXPECT_NE(std::memcmp(raw.data(), b.layers[0].wq.data, raw.size()), 0);
}

TEST(Llama2c, TruncatedOrPaddedFileIsAnError) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  const std::string bytes = read_file(stories_bin());
  for (size_t cut : {size_t{0}, size_t{3}, size_t{27}, size_t{28}, size_t{1000}, bytes.size() / 2, bytes.size() - 1}) {
    write_file(dir / "cut.bin", bytes.substr(0, cut));
    EXPECT_THROW(load_llama2c_model(dir / "cut.bin"), Error) << "cut at " << cut;
  }
  write_file(dir / "long.bin", bytes + "xxxx");
  EXPECT_THROW(load_llama2c_model(dir / "long.bin"), Error);
}

TEST(Llama2c, NonsenseHeaderIsAnError) {
  test::ScratchDir dir;
  int32_t h[7] = {64, 172, 5, 7, 4, 512, 512};  // 64 not divisible by 7 heads
  write_file(dir / "h.bin", std::string(reinterpret_cast<const char*>(h), sizeof(h)));
  EXPECT_THROW(load_llama2c_model(dir / "h.bin"), Error);
  int32_t huge[7] = {1 << 30, 1 << 30, 1 << 30, 1, 1, 1 << 30, 1 << 30};
  write_file(dir / "huge.bin", std::string(reinterpret_cast<const char*>(huge), sizeof(huge)));
  EXPECT_THROW(load_llama2c_model(dir / "huge.bin"), Error);
}

// The version-1 export (magic "ak42", 256-byte header, norms first, no freq_cis), built here from
// the legacy file's own bytes.
TEST(Llama2c, Version1HeaderMatchesLegacy) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  const std::string legacy = read_file(stories_bin());
  const int64_t D = 64, F = 172, L = 5, V = 512, kv = 32, seq = 512, hd = 8;
  size_t pos = 28;
  auto take = [&](int64_t floats) {
    std::string s = legacy.substr(pos, static_cast<size_t>(floats) * 4);
    pos += static_cast<size_t>(floats) * 4;
    return s;
  };
  std::string emb = take(V * D), att = take(L * D), wq = take(L * D * D), wk = take(L * kv * D),
              wv = take(L * kv * D), wo = take(L * D * D), ffn = take(L * D), w1 = take(L * F * D),
              w2 = take(L * D * F), w3 = take(L * F * D), fin = take(D);
  take(seq * hd);
  ASSERT_EQ(pos, legacy.size());
  std::string v1(256, '\0');
  const uint32_t magic = 0x616b3432;
  const int32_t head[8] = {1, 64, 172, 5, 8, 4, 512, 512};
  std::memcpy(v1.data(), &magic, 4);
  std::memcpy(v1.data() + 4, head, sizeof(head));
  v1[36] = 1;  // shared classifier
  v1 += att + ffn + fin + emb + wq + wk + wv + wo + w1 + w2 + w3;
  write_file(dir / "v1.bin", v1);
  Model a = load_llama2c_model(stories_bin());
  Model b = load_llama2c_model(dir / "v1.bin");
  test::expect_models_eq(a, b);
  v1[4] = 2;  // version 2 is llama2.c's own int8 format
  write_file(dir / "v2.bin", v1);
  EXPECT_THROW(load_llama2c_model(dir / "v2.bin"), Error);
}

}  // namespace
}  // namespace optipfair
