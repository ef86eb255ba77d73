// Hostile model files found by fuzzing (issue 13): each is a few bytes written here, and each must
// be refused with an Error naming the problem, never another exception, a huge allocation or UB.
#include <cstring>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "io/gguf_writer.h"
#include "io/model_formats.h"
#include "io/qk_permute.h"
#include "io/safetensors.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

using test::error_of;

// ---- GGUF ----

// A llama GGUF of one layer, hidden 8, with every hyper-parameter key but those in `omit`.
GgufWriter tiny_llama_gguf(const std::vector<std::string>& omit, uint64_t key_length = 0) {
  GgufWriter w;
  auto set = [&](const std::string& key, GgufValue v) {
    if (std::find(omit.begin(), omit.end(), key) == omit.end()) w.set(key, std::move(v));
  };
  set("general.architecture", gguf_string("llama"));
  set("llama.embedding_length", gguf_uint32(8));
  set("llama.block_count", gguf_uint32(1));
  set("llama.attention.head_count", gguf_uint32(4));
  set("llama.feed_forward_length", gguf_uint32(8));
  if (key_length) set("llama.attention.key_length", gguf_uint64(key_length));
  return w;
}

TEST(HostileGguf, MissingHeadCountOrFeedForwardLengthIsNamed) {
  test::ScratchDir dir;
  for (const std::string key : {"llama.attention.head_count", "llama.feed_forward_length"}) {
    tiny_llama_gguf({key}).write(dir / "m.gguf", true);
    const std::string msg = error_of([&] { load_gguf_model(dir / "m.gguf"); });
    EXPECT_NE(msg.find("'" + key + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  }
}

// The tensors of tiny_llama_gguf's model (4 heads x 2 rows, vocabulary 4), all zero.
void add_tiny_llama_tensors(GgufWriter& w) {
  static const std::vector<float> zeros(64, 0.0f);
  w.add_tensor("token_embd.weight", DType::F32, {4, 8}, zeros.data());
  w.add_tensor("output_norm.weight", DType::F32, {8}, zeros.data());
  for (const char* name : {"attn_norm", "ffn_norm"})
    w.add_tensor(std::string("blk.0.") + name + ".weight", DType::F32, {8}, zeros.data());
  for (const char* name : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"})
    w.add_tensor(std::string("blk.0.") + name + ".weight", DType::F32, {8, 8}, zeros.data());
}

// 4 heads of 2^62 + 2 wrap to 8 rows in int64, exactly the rows the tensors have: without a bound
// the file loaded, its Q/K reordering reading rows past the tensor.
TEST(HostileGguf, HugeKeyLengthIsRefused) {
  test::ScratchDir dir;
  GgufWriter w = tiny_llama_gguf({}, (uint64_t{1} << 62) + 2);
  add_tiny_llama_tensors(w);
  w.write(dir / "m.gguf");
  const std::string msg = error_of([&] { load_gguf_model(dir / "m.gguf"); });
  EXPECT_NE(msg.find("head_dim"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4611686018427387906"), std::string::npos) << msg;
}

// Llama 3 rope factors were computed for every pair of a head of 2^62 before the tensor's own
// length was compared.
TEST(HostileGguf, RopeFreqsMustMatchTheHeadSize) {
  test::ScratchDir dir;
  static const std::vector<float> ones(4, 1.0f);
  for (uint64_t key_length : {uint64_t{2}, (uint64_t{1} << 62) + 2}) {
    GgufWriter w = tiny_llama_gguf({}, key_length);
    add_tiny_llama_tensors(w);
    w.add_tensor("rope_freqs.weight", DType::F32, {4}, ones.data());
    w.write(dir / "m.gguf", true);
    const std::string msg = error_of([&] { load_gguf_model(dir / "m.gguf"); });
    EXPECT_NE(msg.find("rope_freqs.weight has 4 entries but heads of " + std::to_string(key_length)),
              std::string::npos)
        << msg;
  }
}

TEST(HostileGguf, QkReorderRefusesAnOverflowingHeadLayout) {
  Model m;
  static const std::vector<float> zeros(16, 0.0f);  // room for the rows a wrapped layout reads
  Tensor t;
  t.name = "wq";
  t.dtype = DType::F32;
  t.shape = {8};
  t.data = zeros.data();
  const std::string msg = error_of([&] { qk_to_half_copy(m, t, 4, (int64_t{1} << 62) + 2); });
  EXPECT_NE(msg.find("wq"), std::string::npos) << msg;
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
}

// ---- llama2.c ----

// The legacy header (seven int32) of a 1-layer model with hidden 8, then `tail` bytes.
std::string llama2c_header(int32_t vocab_size, size_t tail) {
  const int32_t h[7] = {8, 16, 1, 2, 2, vocab_size, 16};
  return std::string(reinterpret_cast<const char*>(h), sizeof(h)) + std::string(tail, '\0');
}

TEST(HostileLlama2c, MostNegativeVocabSizeIsRefused) {
  test::ScratchDir dir;
  // Negating INT32_MIN (the legacy format's "untied classifier" sign) was signed overflow.
  write_file(dir / "m.bin", llama2c_header(INT32_MIN, 6));
  const std::string msg = error_of([&] { load_llama2c_model(dir / "m.bin"); });
  EXPECT_NE(msg.find("vocab_size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("-2147483648"), std::string::npos) << msg;
}

TEST(HostileLlama2c, EachHeaderFieldIsNamed) {
  test::ScratchDir dir;
  const char* fields[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  for (int f = 0; f < 7; ++f) {
    int32_t h[7] = {8, 16, 1, 2, 2, 32, 16};
    h[f] = f == 5 ? 0 : INT32_MAX;  // a negative vocab_size is legal: it marks an untied classifier
    write_file(dir / "m.bin", std::string(reinterpret_cast<const char*>(h), sizeof(h)) + std::string(8, '\0'));
    const std::string msg = error_of([&] { load_llama2c_model(dir / "m.bin"); });
    EXPECT_NE(msg.find(std::string("header field ") + fields[f]), std::string::npos) << msg;
  }
}

// ---- safetensors ----

std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(data_bytes, '\0');
}

TEST(HostileSafetensors, OverflowingShapeIsRefused) {
  test::ScratchDir dir;
  // 2^62 x 4 elements wrap to 0, matching the empty offsets.
  write_file(dir / "a.safetensors",
             safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", 0));
  std::string msg = error_of([&] { SafetensorsFile::open(dir / "a.safetensors"); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
  // The element count fits, the byte count (x 4) wraps to 4.
  write_file(dir / "b.safetensors",
             safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4611686018427387905],"data_offsets":[0,4]}})", 4));
  msg = error_of([&] { SafetensorsFile::open(dir / "b.safetensors"); });
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
  // A zero dimension makes an empty tensor, whatever the others are.
  write_file(dir / "c.safetensors",
             safetensors_bytes(R"({"w":{"dtype":"F32","shape":[0,4611686018427387904],"data_offsets":[0,0]}})", 0));
  EXPECT_EQ(SafetensorsFile::open(dir / "c.safetensors").get("w").numel(), 0);
}

TEST(HostileSafetensors, SizeAndOffsetsMustAgree) {
  test::ScratchDir dir;
  write_file(dir / "a.safetensors",
             safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})", 16));
  std::string msg = error_of([&] { SafetensorsFile::open(dir / "a.safetensors"); });
  EXPECT_NE(msg.find("has 8 bytes but its shape needs 16"), std::string::npos) << msg;
  write_file(dir / "b.safetensors",
             safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}})", 16));
  msg = error_of([&] { SafetensorsFile::open(dir / "b.safetensors"); });
  EXPECT_NE(msg.find("ends at byte 24"), std::string::npos) << msg;
}

}  // namespace
}  // namespace optipfair
