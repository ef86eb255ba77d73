// GGUF models: llama.cpp's fixture, round trips through our writer (F32, BF16, per-layer widths as
// `deci`, qwen2 without Q/K reordering), and the Q/K order written checked against llama2.c's bytes.
#include <cmath>
#include <cstring>
#include <fstream>
#include <numbers>

#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "io/model_formats.h"
#include "io/qk_permute.h"
#include "model/forward.h"
#include "test_gguf_tensor_compare.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

std::filesystem::path stories_bin() { return test::shared_path("models/stories260K/stories260K.bin"); }
std::filesystem::path tiny_gguf() {
  return test::shared_path("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufModel, TinyLlamaFixtureHyperParameters) {
  OPTIPFAIR_REQUIRE_SHARED(tiny_gguf());
  Model m = load_gguf_model(tiny_gguf());
  const ModelConfig& c = m.config;
  EXPECT_EQ(m.format, "gguf");
  EXPECT_EQ(c.model_type, ModelType::Llama);
  EXPECT_EQ(c.hidden_size, 8);
  EXPECT_EQ(c.num_hidden_layers, 1);
  EXPECT_EQ(c.num_attention_heads, 2);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 4);
  EXPECT_EQ(c.intermediate_size, 32);
  EXPECT_EQ(c.intermediate_sizes, std::vector<int64_t>{32});
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.max_position_embeddings, 4096);
  EXPECT_FLOAT_EQ(static_cast<float>(c.rms_norm_eps), 1e-5f);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.dtype, DType::F16);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_EQ(m.tok_embeddings.dtype, DType::F16);
  EXPECT_EQ(m.final_norm.dtype, DType::F32);
  // Q rows come out of the file reordered; everything else points into the mapping.
  GgufFile g = GgufFile::open(tiny_gguf());
  const GgufTensorInfo* q = g.find_tensor("blk.0.attn_q.weight");
  for (int64_t r = 0; r < 8; ++r)
    EXPECT_EQ(std::memcmp(m.layers[0].wq.row_data(r), static_cast<const uint8_t*>(q->data) + qk_interleaved_row(r, 4) * 16, 16), 0);
  EXPECT_NE(m.layers[0].wq.data, q->data);
  auto mapped = std::static_pointer_cast<const MappedFile>(m.storage.front());
  const auto* v = static_cast<const uint8_t*>(m.layers[0].wv.data);
  EXPECT_TRUE(v >= mapped->data() && v + 128 <= mapped->data() + mapped->size());
}

TEST(GgufModel, RoundTripF32AndQkOrderMatchesLlama2c) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  save_gguf_model(a, dir / "s.gguf");
  GgufFile g = GgufFile::open(dir / "s.gguf");
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(g.find_tensor("output.weight"), nullptr);  // tied
  // llama2.c stores Q/K in the same interleaved order llama.cpp expects: the bytes must agree.
  const std::string legacy = read_file(stories_bin());
  const size_t wq_offset = 28 + 4 * (512 * 64 + 5 * 64);
  const size_t wk_offset = wq_offset + 5 * 64 * 64 * 4;
  for (int l = 0; l < 5; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(std::memcmp(g.find_tensor(p + "attn_q.weight")->data, legacy.data() + wq_offset + l * 64 * 64 * 4, 64 * 64 * 4), 0);
    EXPECT_EQ(std::memcmp(g.find_tensor(p + "attn_k.weight")->data, legacy.data() + wk_offset + l * 32 * 64 * 4, 32 * 64 * 4), 0);
  }
  Model b = load_gguf_model(dir / "s.gguf");
  EXPECT_EQ(b.config.hidden_size, 64);
  EXPECT_EQ(b.config.num_key_value_heads, 4);
  EXPECT_EQ(b.config.head_dim, 8);
  EXPECT_EQ(b.config.vocab_size, 512);
  EXPECT_EQ(b.config.max_position_embeddings, 512);
  EXPECT_TRUE(b.config.tie_word_embeddings);
  EXPECT_EQ(b.config.rms_norm_eps, static_cast<double>(1e-5f));
  test::expect_models_eq(a, b);
}

TEST(GgufModel, RoundTripBF16RoundsOnce) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  SaveOptions o;
  o.dtype = DType::BF16;
  save_gguf_model(a, dir / "s.gguf", o);
  Model b = load_gguf_model(dir / "s.gguf");
  EXPECT_EQ(b.config.dtype, DType::BF16);
  EXPECT_EQ(b.layers[0].w_up.dtype, DType::BF16);
  EXPECT_EQ(b.layers[0].attn_norm.dtype, DType::F32);  // vectors stay float32, as llama.cpp writes them
  test::expect_models_eq(a, b, true);
  // BF16 -> GGUF (kept as BF16) -> identical again; and F16 conversion works.
  save_gguf_model(b, dir / "again.gguf");
  test::expect_models_eq(b, load_gguf_model(dir / "again.gguf"));
  o.dtype = DType::F16;
  save_gguf_model(a, dir / "f16.gguf", o);
  Model f = load_gguf_model(dir / "f16.gguf");
  EXPECT_EQ(f.layers[2].wk.dtype, DType::F16);
  EXPECT_EQ(test::tensor_at(f.layers[2].wk, 5, 7), f16_to_f32(f32_to_f16(test::tensor_at(a.layers[2].wk, 5, 7))));
}

TEST(GgufModel, HuggingFaceToGgufKeepsWeights) {
  auto hf_dir = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(hf_dir);
  test::ScratchDir dir;
  Model a = load_hf_model(hf_dir);
  save_gguf_model(a, dir / "h.gguf");
  test::expect_models_eq(a, load_gguf_model(dir / "h.gguf"));
}

// A pruned-looking model: layer l keeps the first 172 - 20*l neurons (owned, sliced copies).
Model with_per_layer_widths(Model m) {
  const int64_t H = m.config.hidden_size;
  for (size_t l = 0; l < m.layers.size(); ++l) {
    LayerWeights& w = m.layers[l];
    const int64_t keep = 172 - 20 * static_cast<int64_t>(l);
    for (Tensor* t : {&w.w_gate, &w.w_up}) {
      auto* buf = static_cast<float*>(m.allocate(static_cast<size_t>(keep * H) * 4));
      std::memcpy(buf, t->data, static_cast<size_t>(keep * H) * 4);
      t->data = buf;
      t->shape = {keep, H};
    }
    auto* down = static_cast<float*>(m.allocate(static_cast<size_t>(keep * H) * 4));
    for (int64_t r = 0; r < H; ++r) std::memcpy(down + r * keep, w.w_down.row_data(r), static_cast<size_t>(keep) * 4);
    w.w_down.data = down;
    w.w_down.shape = {H, keep};
    m.config.intermediate_sizes[l] = keep;
  }
  return m;
}

TEST(GgufModel, PerLayerWidthsBecomeDeciAndBack) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = with_per_layer_widths(load_llama2c_model(stories_bin()));
  save_gguf_model(a, dir / "d.gguf");
  GgufFile g = GgufFile::open(dir / "d.gguf");
  EXPECT_EQ(g.get_string("general.architecture"), "deci");
  EXPECT_EQ(g.get_int_array("deci.feed_forward_length"), (std::vector<int64_t>{172, 152, 132, 112, 92}));
  Model b = load_gguf_model(dir / "d.gguf");
  EXPECT_EQ(b.config.model_type, ModelType::Llama);
  EXPECT_EQ(b.config.intermediate_sizes, (std::vector<int64_t>{172, 152, 132, 112, 92}));
  EXPECT_EQ(b.config.intermediate_size, 172);
  test::expect_models_eq(a, b);
}

// A column-sliced (strided) down projection is written compactly.
TEST(GgufModel, StridedViewsAreWrittenCompactly) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  Model sliced = load_llama2c_model(stories_bin());
  LayerWeights& w = sliced.layers[1];
  w.w_gate.shape = {100, 64};
  w.w_up.shape = {100, 64};
  w.w_down.row_stride = 172;
  w.w_down.shape = {64, 100};
  sliced.config.intermediate_sizes[1] = 100;
  save_gguf_model(sliced, dir / "s.gguf");
  Model b = load_gguf_model(dir / "s.gguf");
  ASSERT_EQ(b.layers[1].w_down.shape, (std::vector<int64_t>{64, 100}));
  for (int64_t r = 0; r < 64; r += 7)
    for (int64_t c = 0; c < 100; c += 3)
      EXPECT_EQ(test::tensor_at(b.layers[1].w_down, r, c), test::tensor_at(a.layers[1].w_down, r, c));
}

TEST(GgufModel, Qwen2KeepsRowOrderAndBiases) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  a.config.model_type = ModelType::Qwen2;
  a.config.attention_bias = true;
  for (LayerWeights& w : a.layers) {
    for (auto [t, n] : {std::pair{&w.bq, 64}, std::pair{&w.bk, 32}, std::pair{&w.bv, 32}}) {
      auto* buf = static_cast<float*>(a.allocate(static_cast<size_t>(n) * 4));
      for (int k = 0; k < n; ++k) buf[k] = 0.01f * static_cast<float>(k) - 0.1f;
      t->name = "bias";
      t->dtype = DType::F32;
      t->shape = {n};
      t->data = buf;
    }
  }
  save_gguf_model(a, dir / "q.gguf");
  GgufFile g = GgufFile::open(dir / "q.gguf");
  EXPECT_EQ(g.get_string("general.architecture"), "qwen2");
  // NEOX rope: rows stay in Hugging Face order.
  EXPECT_EQ(std::memcmp(g.find_tensor("blk.3.attn_q.weight")->data, a.layers[3].wq.data, 64 * 64 * 4), 0);
  Model b = load_gguf_model(dir / "q.gguf");
  EXPECT_EQ(b.config.model_type, ModelType::Qwen2);
  EXPECT_TRUE(b.config.attention_bias);
  test::expect_models_eq(a, b);
  for (size_t l = 0; l < 5; ++l) {
    test::expect_tensor_eq(a.layers[l].bq, b.layers[l].bq, "bq");
    test::expect_tensor_eq(a.layers[l].bk, b.layers[l].bk, "bk");
  }
}

TEST(GgufModel, Llama3RopeScalingSurvives) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  a.config.rope_theta = 500000.0;
  a.config.rope_scaling.type = RopeScalingType::Llama3;
  a.config.rope_scaling.factor = 32.0;
  save_gguf_model(a, dir / "r.gguf");
  GgufFile g = GgufFile::open(dir / "r.gguf");
  const GgufTensorInfo* f = g.find_tensor("rope_freqs.weight");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->shape, std::vector<int64_t>{4});
  float factors[4];
  std::memcpy(factors, f->data, sizeof(factors));
  // Wavelengths 2*pi*500000^(j/4): 6.3 and 186 are short (x1), 5532 lies in the smooth band,
  // 118k is long (x factor).
  EXPECT_EQ(factors[0], 1.0f);
  EXPECT_EQ(factors[1], 1.0f);
  const double smooth = (8192.0 / (2 * std::numbers::pi * std::pow(500000.0, 0.5)) - 1.0) / 3.0;
  EXPECT_NEAR(factors[2], 1.0 / ((1 - smooth) / 32.0 + smooth), 1e-5);
  EXPECT_EQ(factors[3], 32.0f);
  Model b = load_gguf_model(dir / "r.gguf");
  EXPECT_EQ(b.config.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(b.config.rope_scaling.factor, 32.0);
  EXPECT_EQ(b.config.rope_scaling.original_max_position_embeddings, 8192);
  // Without our own keys (as llama.cpp's converter writes it) the parameters come from rope_freqs.
  std::string bytes = read_file(dir / "r.gguf");
  for (size_t at = bytes.find("optipfair."); at != std::string::npos; at = bytes.find("optipfair.", at + 1)) bytes[at] = 'x';
  write_file(dir / "plain.gguf", bytes);
  Model c = load_gguf_model(dir / "plain.gguf");
  EXPECT_EQ(c.config.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_FLOAT_EQ(static_cast<float>(c.config.rope_scaling.factor), 32.0f);
  EXPECT_EQ(c.config.rope_scaling.high_freq_factor, 4.0);
}

// Q8_0 blocks: 32 int8 values and one f16 scale, made here from float32 rows.
Tensor quantize_q8(Model& m, const Tensor& t) {
  const int64_t rows = t.rows(), blocks = t.cols() / kQ8BlockSize;
  auto* out = static_cast<BlockQ8_0*>(m.allocate(static_cast<size_t>(rows * blocks) * sizeof(BlockQ8_0)));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      float amax = 0;
      for (int k = 0; k < kQ8BlockSize; ++k) amax = std::max(amax, std::fabs(test::tensor_at(t, r, b * 32 + k)));
      const float d = amax / 127.0f;
      BlockQ8_0& blk = out[r * blocks + b];
      blk.scale_f16 = f32_to_f16(d);
      for (int k = 0; k < kQ8BlockSize; ++k)
        blk.q[k] = static_cast<int8_t>(d == 0 ? 0 : std::lround(test::tensor_at(t, r, b * 32 + k) / d));
    }
  Tensor q = t;
  q.dtype = DType::Q8_0;
  q.data = out;
  return q;
}

TEST(GgufModel, Q8_0IsKeptOrWidened) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  for (LayerWeights& w : a.layers) {
    w.wq = quantize_q8(a, w.wq);
    w.wk = quantize_q8(a, w.wk);
    w.w_up = quantize_q8(a, w.w_up);
  }
  save_gguf_model(a, dir / "q.gguf");
  GgufFile g = GgufFile::open(dir / "q.gguf");
  EXPECT_EQ(g.find_tensor("blk.0.attn_q.weight")->dtype, DType::Q8_0);
  EXPECT_EQ(g.find_tensor("blk.0.attn_q.weight")->nbytes, 64u * 2 * 34);
  Model b = load_gguf_model(dir / "q.gguf");  // Q8_0 rows reordered back
  test::expect_models_eq(a, b);
  SaveOptions o;
  o.dtype = DType::F32;
  save_gguf_model(a, dir / "f.gguf", o);
  Model c = load_gguf_model(dir / "f.gguf");
  EXPECT_EQ(c.layers[0].wq.dtype, DType::F32);
  test::expect_models_eq(a, c);  // compares dequantised values
}

TEST(GgufModel, RefusesOverwriteAndItsOwnSource) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  save_gguf_model(a, dir / "s.gguf");
  EXPECT_NE(error_of([&] { save_gguf_model(a, dir / "s.gguf"); }).find("exists"), std::string::npos);
  SaveOptions o;
  o.overwrite = true;
  save_gguf_model(a, dir / "s.gguf", o);
  Model b = load_gguf_model(dir / "s.gguf");
  EXPECT_NE(error_of([&] { save_gguf_model(b, dir / "s.gguf", o); }).find("loaded from"), std::string::npos);
  o.dtype = DType::Q8_0;
  EXPECT_THROW(save_gguf_model(a, dir / "q8.gguf", o), Error);
}

TEST(GgufModel, TruncatedModelIsAnError) {
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  test::ScratchDir dir;
  save_gguf_model(load_llama2c_model(stories_bin()), dir / "s.gguf");
  const std::string bytes = read_file(dir / "s.gguf");
  for (size_t cut : {size_t{0}, size_t{4}, size_t{30}, size_t{200}, size_t{2000}, bytes.size() / 3, bytes.size() - 40}) {
    write_file(dir / "cut.gguf", bytes.substr(0, cut));
    EXPECT_THROW(load_gguf_model(dir / "cut.gguf"), Error) << "cut at " << cut;
  }
}

TEST(GgufModel, UnsupportedArchitectureIsNamed) {
  OPTIPFAIR_REQUIRE_SHARED(tiny_gguf());
  test::ScratchDir dir;
  std::string bytes = read_file(tiny_gguf());
  // "llama" -> "gpt_x" in general.architecture only (same length, so the layout holds).
  size_t at = bytes.find("general.architecture");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at + 20 + 4 + 8, 5, "gpt_x");
  write_file(dir / "x.gguf", bytes);
  std::string msg = error_of([&] { load_gguf_model(dir / "x.gguf"); });
  EXPECT_NE(msg.find("gpt_x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("qwen2"), std::string::npos) << msg;
}

TEST(GgufModel, MissingTensorIsNamed) {
  OPTIPFAIR_REQUIRE_SHARED(tiny_gguf());
  test::ScratchDir dir;
  std::string bytes = read_file(tiny_gguf());
  size_t at = bytes.find("blk.0.ffn_up.weight");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 6] = 'X';
  write_file(dir / "m.gguf", bytes);
  std::string msg = error_of([&] { load_gguf_model(dir / "m.gguf"); });
  EXPECT_NE(msg.find("ffn_up"), std::string::npos) << msg;
}

TEST(GgufModel, SameLogitsAsLlama2cAndHuggingFace) {
  auto hf_dir = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(stories_bin());
  OPTIPFAIR_REQUIRE_SHARED(hf_dir);
  test::ScratchDir dir;
  Model a = load_llama2c_model(stories_bin());
  Model h = load_hf_model(hf_dir);
  save_gguf_model(a, dir / "s.gguf");
  Model g = load_gguf_model(dir / "s.gguf");
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 5, 100, 300, 2, 44};
  std::vector<float> la = forward_tokens(a, tokens), lh = forward_tokens(h, tokens), lg = forward_tokens(g, tokens);
  ASSERT_EQ(la.size(), tokens.size() * 512);
  ASSERT_EQ(lh.size(), la.size());
  ASSERT_EQ(lg.size(), la.size());
  for (size_t k = 0; k < la.size(); ++k) {
    EXPECT_NEAR(lg[k], la[k], 1e-5 * (1 + std::fabs(la[k])));
    EXPECT_NEAR(lh[k], la[k], 1e-5 * (1 + std::fabs(la[k])));
  }
}

}  // namespace
}  // namespace optipfair
