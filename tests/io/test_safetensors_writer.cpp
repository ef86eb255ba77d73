// The writer is checked against the safetensors format as documented (8-byte little-endian
// header length, JSON header, data section), decoded here by hand rather than by our reader.
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/safetensors_writer.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

struct RawFile {
  uint64_t header_len = 0;
  nlohmann::json header;
  std::string data;  // everything after the header
};

RawFile read_raw(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  RawFile r;
  EXPECT_GE(all.size(), 8u);
  for (int i = 0; i < 8; ++i) r.header_len |= static_cast<uint64_t>(static_cast<uint8_t>(all[i])) << (8 * i);
  r.header = nlohmann::json::parse(all.substr(8, r.header_len));
  r.data = all.substr(8 + r.header_len);
  return r;
}

Tensor f32_tensor(const std::string& name, const std::vector<float>& v, std::vector<int64_t> shape) {
  Tensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  t.data = v.data();
  return t;
}

std::vector<float> floats_at(const std::string& data, const nlohmann::json& desc) {
  auto b = desc["data_offsets"][0].get<size_t>(), e = desc["data_offsets"][1].get<size_t>();
  std::vector<float> out((e - b) / 4);
  std::memcpy(out.data(), data.data() + b, e - b);
  return out;
}

TEST(SafetensorsWriter, HeaderAndDataFollowTheFormat) {
  test::ScratchDir dir;
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {7};
  std::vector<SafetensorsEntry> entries = {{"a", DType::F32, {2, 3}, f32_tensor("a", a, {2, 3})},
                                           {"b.bias", DType::F32, {1}, f32_tensor("b", b, {1})}};
  safetensors_write(dir / "m.safetensors", entries);
  RawFile r = read_raw(dir / "m.safetensors");
  EXPECT_EQ(r.header_len % 8, 0u);  // data section 8-byte aligned
  EXPECT_EQ(r.header["__metadata__"], (nlohmann::json{{"format", "pt"}}));
  EXPECT_EQ(r.header["a"]["dtype"], "F32");
  EXPECT_EQ(r.header["a"]["shape"], (nlohmann::json{2, 3}));
  EXPECT_EQ(r.header["a"]["data_offsets"], (nlohmann::json{0, 24}));
  EXPECT_EQ(r.header["b.bias"]["data_offsets"], (nlohmann::json{24, 28}));
  EXPECT_EQ(r.data.size(), 28u);
  EXPECT_EQ(floats_at(r.data, r.header["a"]), a);
  EXPECT_EQ(floats_at(r.data, r.header["b.bias"]), b);
}

TEST(SafetensorsWriter, PadsRowsAndColumnsWithZeros) {
  test::ScratchDir dir;
  // A [2, 3] view into a buffer with rows 4 apart: the last element of each row is not part of it.
  std::vector<float> buf = {1, 2, 3, 99, 4, 5, 6, 99};
  Tensor t = f32_tensor("w", buf, {2, 3});
  t.row_stride = 4;
  safetensors_write(dir / "p.safetensors", {{"w", DType::F32, {3, 5}, t}});
  RawFile r = read_raw(dir / "p.safetensors");
  EXPECT_EQ(floats_at(r.data, r.header["w"]),
            (std::vector<float>{1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(SafetensorsWriter, ConvertsF32ToBf16AndF16) {
  test::ScratchDir dir;
  std::vector<float> v = {1.0f, -2.0f, 0.5f, 1.00390625f /* halfway between two bf16: ties to even */};
  std::vector<SafetensorsEntry> entries = {{"x", DType::BF16, {4}, f32_tensor("x", v, {4})},
                                           {"y", DType::F16, {4}, f32_tensor("y", v, {4})}};
  safetensors_write(dir / "c.safetensors", entries);
  RawFile r = read_raw(dir / "c.safetensors");
  EXPECT_EQ(r.header["x"]["dtype"], "BF16");
  EXPECT_EQ(r.header["y"]["dtype"], "F16");
  uint16_t x[4], y[4];
  std::memcpy(x, r.data.data() + r.header["x"]["data_offsets"][0].get<size_t>(), 8);
  std::memcpy(y, r.data.data() + r.header["y"]["data_offsets"][0].get<size_t>(), 8);
  EXPECT_EQ(x[0], 0x3F80);
  EXPECT_EQ(x[1], 0xC000);
  EXPECT_EQ(x[2], 0x3F00);
  EXPECT_EQ(x[3], 0x3F80);
  EXPECT_EQ(y[0], 0x3C00);
  EXPECT_EQ(y[1], 0xC000);
  EXPECT_EQ(y[2], 0x3800);
  EXPECT_EQ(y[3], 0x3C04);
}

TEST(SafetensorsWriter, WidensBf16AndQ8_0) {
  test::ScratchDir dir;
  std::vector<uint16_t> h = {0x3F80, 0x4040};  // 1, 3
  Tensor bf;
  bf.dtype = DType::BF16;
  bf.shape = {2};
  bf.data = h.data();
  BlockQ8_0 block{};
  block.scale_f16 = 0x3800;  // 0.5
  for (int i = 0; i < kQ8BlockSize; ++i) block.q[i] = static_cast<int8_t>(i - 16);
  Tensor q;
  q.dtype = DType::Q8_0;
  q.shape = {1, 32};
  q.data = &block;
  safetensors_write(dir / "w.safetensors", {{"bf", DType::F32, {2}, bf}, {"q", DType::F32, {1, 32}, q}});
  RawFile r = read_raw(dir / "w.safetensors");
  EXPECT_EQ(floats_at(r.data, r.header["bf"]), (std::vector<float>{1, 3}));
  auto qv = floats_at(r.data, r.header["q"]);
  for (int i = 0; i < kQ8BlockSize; ++i) EXPECT_EQ(qv[i], 0.5f * (i - 16));
}

TEST(SafetensorsWriter, RefusesWhatItCannotStore) {
  test::ScratchDir dir;
  std::vector<float> v(64, 1.0f);
  Tensor t = f32_tensor("t", v, {2, 32});
  EXPECT_THROW(safetensors_write(dir / "a", {{"t", DType::Q8_0, {2, 32}, t}}), Error);
  EXPECT_THROW(safetensors_write(dir / "b", {{"t", DType::F32, {1, 32}, t}}), Error);  // larger than its shape
  EXPECT_THROW(safetensors_write(dir / "c", {{"t", DType::F32, {2, 32}, t}, {"t", DType::F32, {2, 32}, t}}), Error);
  Tensor empty;
  empty.shape = {2};
  EXPECT_THROW(safetensors_write(dir / "d", {{"e", DType::F32, {2}, empty}}), Error);
  EXPECT_THROW(safetensors_write(dir / "no-such-dir" / "e", {{"t", DType::F32, {2, 32}, t}}), Error);
}

}  // namespace
}  // namespace optipfair
