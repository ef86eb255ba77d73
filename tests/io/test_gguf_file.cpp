// GgufFile against hand-assembled bytes (independent of our writer), GgufWriter against the same
// bytes, and bad input: every truncation point, bad magic, unknown types, offsets past the end.
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

// Little-endian GGUF assembled by hand from the specification.
struct Bytes {
  std::string b;
  template <typename T>
  Bytes& put(T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b += s;
    return *this;
  }
  Bytes& pad(size_t a) {
    while (b.size() % a) b.push_back('\0');
    return *this;
  }
};

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Two metadata keys, one F32 tensor [2 x 3] (ne = 3, 2) and one F16 vector of 4, default alignment.
std::string small_gguf(uint32_t tensor_type = 0, uint64_t second_offset = 32) {
  Bytes f;
  f.b = "GGUF";
  f.put<uint32_t>(3).put<uint64_t>(2).put<uint64_t>(2);
  f.str("general.architecture").put<uint32_t>(8).str("llama");
  f.str("test.list").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(3).put<int32_t>(-1).put<int32_t>(2).put<int32_t>(7);
  f.str("w").put<uint32_t>(2).put<uint64_t>(3).put<uint64_t>(2).put<uint32_t>(tensor_type).put<uint64_t>(0);
  f.str("v").put<uint32_t>(1).put<uint64_t>(4).put<uint32_t>(1).put<uint64_t>(second_offset);
  f.pad(32);
  for (int k = 0; k < 6; ++k) f.put<float>(static_cast<float>(k) + 0.5f);
  f.pad(32);
  for (uint16_t h : {0x3c00, 0x4000, 0xc000, 0x0000}) f.put<uint16_t>(h);  // 1, 2, -2, 0
  return f.b;
}

TEST(GgufFile, ReadsHandAssembledFile) {
  test::ScratchDir dir;
  write_file(dir / "a.gguf", small_gguf());
  GgufFile g = GgufFile::open(dir / "a.gguf");
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int_array("test.list"), (std::vector<int64_t>{-1, 2, 7}));
  ASSERT_EQ(g.tensors().size(), 2u);
  const GgufTensorInfo* w = g.find_tensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->dtype, DType::F32);
  EXPECT_EQ(w->nbytes, 24u);
  float x[6];
  std::memcpy(x, w->data, sizeof(x));
  EXPECT_EQ(x[0], 0.5f);
  EXPECT_EQ(x[5], 5.5f);
  const GgufTensorInfo* v = g.find_tensor("v");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->dtype, DType::F16);
  uint16_t h[4];
  std::memcpy(h, v->data, sizeof(h));
  EXPECT_EQ(f16_to_f32(h[2]), -2.0f);
  EXPECT_EQ(g.find_tensor("missing"), nullptr);
  EXPECT_THROW(g.get_int("general.architecture"), Error);
  EXPECT_THROW(g.get_string("nope"), Error);
}

TEST(GgufFile, WriterProducesTheSpecifiedBytes) {
  test::ScratchDir dir;
  GgufWriter w;
  w.set("general.architecture", gguf_string("llama"));
  w.set("test.list", gguf_int32_array({-1, 2, 7}));
  const float wdata[6] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
  const uint16_t vdata[4] = {0x3c00, 0x4000, 0xc000, 0x0000};
  w.add_tensor("w", DType::F32, {2, 3}, wdata);
  w.add_tensor("v", DType::F16, {4}, vdata);
  w.write(dir / "b.gguf");
  std::string expected = small_gguf();
  expected.resize((expected.size() + 31) / 32 * 32, '\0');  // the writer pads the last tensor too
  EXPECT_EQ(read_file(dir / "b.gguf"), expected);
  EXPECT_THROW(w.write(dir / "b.gguf"), Error);  // no overwrite by default
  w.write(dir / "b.gguf", true);
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "b.gguf") << "temporary left behind";
}

TEST(GgufFile, AllMetadataTypesRoundTrip) {
  test::ScratchDir dir;
  GgufWriter w(64);
  w.set("u8", gguf_uint8(250));
  w.set("i8", gguf_int8(-100));
  w.set("u16", gguf_uint16(65000));
  w.set("i16", gguf_int16(-30000));
  w.set("u32", gguf_uint32(4000000000u));
  w.set("i32", gguf_int32(-2000000000));
  w.set("u64", gguf_uint64(uint64_t{1} << 63));
  w.set("i64", gguf_int64(-(int64_t{1} << 62)));
  w.set("f32", gguf_float32(1.25f));
  w.set("f64", gguf_float64(1e-300));
  w.set("t", gguf_bool(true));
  w.set("s", gguf_string(std::string("h\0llo", 5)));
  w.set("strs", gguf_string_array({"a", "", "ccc"}));
  w.set("floats", gguf_float32_array({0.5f, -1.0f}));
  w.set("nested", gguf_array(kGgufArray, {gguf_int32_array({1, 2}), gguf_int32_array({3})}));
  w.set("empty", gguf_array(kGgufUint8, {}));
  const uint16_t bf[32] = {};
  w.add_tensor("z", DType::BF16, {32}, bf);
  w.write(dir / "m.gguf");

  GgufFile g = GgufFile::open(dir / "m.gguf");
  EXPECT_EQ(g.get_int("u8"), 250);
  EXPECT_EQ(g.get_int("i8"), -100);
  EXPECT_EQ(g.get_int("u16"), 65000);
  EXPECT_EQ(g.get_int("i16"), -30000);
  EXPECT_EQ(g.get_int("u32"), 4000000000LL);
  EXPECT_EQ(g.get_int("i32"), -2000000000);
  EXPECT_THROW(g.get_int("u64"), Error);  // does not fit int64
  EXPECT_EQ(g.metadata().at("u64").u, uint64_t{1} << 63);
  EXPECT_EQ(g.get_int("i64"), -(int64_t{1} << 62));
  EXPECT_EQ(g.get_float("f32"), 1.25);
  EXPECT_EQ(g.get_float("f64"), 1e-300);
  EXPECT_EQ(g.get_float("u8"), 250.0);
  EXPECT_TRUE(g.get_bool("t"));
  EXPECT_EQ(g.get_string("s"), std::string("h\0llo", 5));
  EXPECT_EQ(g.get_string_array("strs"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(g.get_float_array("floats"), (std::vector<double>{0.5, -1.0}));
  const GgufValue& nested = g.metadata().at("nested");
  ASSERT_EQ(nested.array_size(), 2u);
  EXPECT_EQ(nested.array_element(0).array_element(1).i, 2);
  EXPECT_TRUE(g.get_int_array("empty").empty());
  EXPECT_EQ(g.get_int("general.alignment"), 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(g.find_tensor("z")->data) % 64, 0u);
  EXPECT_EQ(g.find_tensor("z")->dtype, DType::BF16);
  EXPECT_THROW(g.get_string_array("floats"), Error);
  EXPECT_THROW(g.get_bool("u8"), Error);
}

// Arrays of numbers and strings stay in the mapped file: a copied value keeps the mapping alive
// after the GgufFile is gone, and writes back the same elements.
TEST(GgufFile, PackedArraysOutliveTheFileAndWriteBack) {
  test::ScratchDir dir;
  GgufWriter w(32);
  w.set("strs", gguf_string_array({"a", "", "ccc"}));
  w.set("ints", gguf_int32_array({-1, 7}));
  w.set("bools", gguf_array(kGgufBool, {gguf_bool(true), gguf_bool(false)}));
  w.write(dir / "a.gguf");
  GgufMetadata copied;
  {
    const GgufFile g = GgufFile::open(dir / "a.gguf");
    const auto views = g.get_string_views("strs");
    ASSERT_EQ(views.size(), 3u);
    EXPECT_EQ(views[2], "ccc");
    for (const auto& kv : g.metadata())
      if (kv.first != "general.alignment") copied.push_back(kv);
  }
  GgufWriter again(32);
  for (auto& [key, value] : copied) {
    EXPECT_TRUE(value.is_packed()) << key;
    again.set(key, value);
  }
  again.write(dir / "b.gguf");
  const GgufFile b = GgufFile::open(dir / "b.gguf");
  EXPECT_EQ(b.get_string_array("strs"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(b.get_int_array("ints"), (std::vector<int64_t>{-1, 7}));
  EXPECT_TRUE(b.metadata().at("bools").array_element(0).b);
  EXPECT_FALSE(b.metadata().at("bools").array_element(1).b);

  // A boolean element other than 0 or 1 is refused, as a single boolean is.
  std::string bytes = read_file(dir / "a.gguf");
  const size_t at = bytes.find("bools");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5 + 4 + 4 + 8] = 2;  // after the key: value type, element type, count
  std::ofstream(dir / "c.gguf", std::ios::binary) << bytes;
  try {
    GgufFile::open(dir / "c.gguf");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("metadata key 'bools' holds an invalid boolean"), std::string::npos) << e.what();
  }
}

TEST(GgufFile, Version2IsAccepted) {
  test::ScratchDir dir;
  std::string bytes = small_gguf();
  bytes[4] = 2;
  write_file(dir / "v2.gguf", bytes);
  EXPECT_EQ(GgufFile::open(dir / "v2.gguf").version(), 2u);
  bytes[4] = 1;
  write_file(dir / "v1.gguf", bytes);
  EXPECT_THROW(GgufFile::open(dir / "v1.gguf"), Error);
}

std::string error_of(const std::filesystem::path& p) {
  try {
    GgufFile::open(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufFile, BadMagicIsNotAGgufFile) {
  test::ScratchDir dir;
  std::string bytes = small_gguf();
  bytes[0] = 'X';
  write_file(dir / "bad.gguf", bytes);
  EXPECT_NE(error_of(dir / "bad.gguf").find("not a GGUF file"), std::string::npos);
  write_file(dir / "empty.gguf", "");
  EXPECT_NE(error_of(dir / "empty.gguf").find("not a GGUF file"), std::string::npos);
}

TEST(GgufFile, EveryTruncationIsAnError) {
  test::ScratchDir dir;
  const std::string bytes = small_gguf();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    write_file(dir / "cut.gguf", bytes.substr(0, cut));
    EXPECT_FALSE(error_of(dir / "cut.gguf").empty()) << "cut at " << cut;
  }
}

TEST(GgufFile, UnknownTensorTypeNamesTensorAndType) {
  test::ScratchDir dir;
  write_file(dir / "q4.gguf", small_gguf(12));  // Q4_K
  std::string msg = error_of(dir / "q4.gguf");
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Q4_K"), std::string::npos) << msg;
  write_file(dir / "odd.gguf", small_gguf(999));
  EXPECT_NE(error_of(dir / "odd.gguf").find("999"), std::string::npos);
}

TEST(GgufFile, OffsetPastEndIsAnError) {
  test::ScratchDir dir;
  write_file(dir / "far.gguf", small_gguf(0, 1024));
  EXPECT_NE(error_of(dir / "far.gguf").find("past the end"), std::string::npos);
  write_file(dir / "unaligned.gguf", small_gguf(0, 24));
  EXPECT_FALSE(error_of(dir / "unaligned.gguf").empty());
}

TEST(GgufFile, AbsurdCountsAreRejected) {
  test::ScratchDir dir;
  std::string bytes = small_gguf();
  std::string huge = bytes;
  uint64_t n = uint64_t{1} << 60;
  std::memcpy(huge.data() + 8, &n, 8);  // tensor count
  write_file(dir / "t.gguf", huge);
  EXPECT_FALSE(error_of(dir / "t.gguf").empty());
  huge = bytes;
  std::memcpy(huge.data() + 16, &n, 8);  // metadata count
  write_file(dir / "k.gguf", huge);
  EXPECT_FALSE(error_of(dir / "k.gguf").empty());
  // Array element count of "test.list": after magic, version, counts, key, type, element type.
  huge = bytes;
  size_t at = 24 + 8 + std::string("general.architecture").size() + 4 + 8 + 5 + 8 + 9 + 4 + 4;
  std::memcpy(huge.data() + at, &n, 8);
  write_file(dir / "a.gguf", huge);
  EXPECT_NE(error_of(dir / "a.gguf").find("more than the file can hold"), std::string::npos);
}

TEST(GgufFile, ReadsTinyLlamaFixture) {
  auto path = test::shared_path("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
  OPTIPFAIR_REQUIRE_SHARED(path);
  GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.embedding_length"), 8);
  EXPECT_EQ(g.get_int("llama.block_count"), 1);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
  EXPECT_EQ(g.tensors().size(), 12u);
  const GgufTensorInfo* emb = g.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{32000, 8}));
  EXPECT_EQ(emb->dtype, DType::F16);
}

}  // namespace
}  // namespace optipfair
