// The GGUF block types: layouts, the reference dequantisation against values ggml itself produced
// (tests/kernels/data/ggml_dequant.json, see its README), and matmul on every instruction set
// against matmul_naive.
#include "kernels/quants.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"
#include "util/build_paths.h"
#include "util/error.h"
#include "kernels/quants_test_support.h"

using namespace optipfair;
using namespace optipfair::quants_test;

namespace {

constexpr DType kBlockTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                 DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

TEST(Quants, LayoutsAndNames) {
  EXPECT_EQ(dtype_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(dtype_bytes(DType::Q6_K, 256), 210u);
  EXPECT_EQ(dtype_bytes(DType::Q4_0, 64), 36u);
  for (DType t : kBlockTypes) {
    EXPECT_TRUE(dtype_is_quantized(t));
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  }
  EXPECT_FALSE(dtype_is_quantized(DType::BF16));
  EXPECT_THROW(dtype_from_name("Q3_K"), Error);
}

// Hand-made blocks whose values follow from the formulas by hand.
TEST(Quants, HandMadeBlocks) {
  BlockQ4_0 a{};
  a.d = f32_to_f16(0.5f);
  a.qs[0] = 0x9F;  // element 0: 15 - 8 = 7; element 16: 9 - 8 = 1
  std::vector<float> y(32);
  dequantize_blocks(DType::Q4_0, reinterpret_cast<const uint8_t*>(&a), y.data(), 32);
  EXPECT_EQ(y[0], 3.5f);
  EXPECT_EQ(y[16], 0.5f);
  EXPECT_EQ(y[1], -4.0f);  // nibble 0: 0 - 8

  BlockQ5_1 b{};
  b.d = f32_to_f16(1.0f);
  b.m = f32_to_f16(-2.0f);
  b.qs[3] = 0x21;                      // element 3: 1, element 19: 2
  const uint32_t qh = (1u << 3) | (1u << 19);  // fifth bits of elements 3 and 19
  std::memcpy(b.qh, &qh, 4);
  dequantize_blocks(DType::Q5_1, reinterpret_cast<const uint8_t*>(&b), y.data(), 32);
  EXPECT_EQ(y[3], 17.0f - 2.0f);
  EXPECT_EQ(y[19], 18.0f - 2.0f);
  EXPECT_EQ(y[0], -2.0f);

  BlockQ6_K c{};
  c.d = f32_to_f16(0.25f);
  for (auto& s : c.scales) s = 2;
  c.ql[0] = 0x0F;  // element 0: low 15, high bits 0 -> 15 - 32 = -17
  std::vector<float> z(256);
  dequantize_blocks(DType::Q6_K, reinterpret_cast<const uint8_t*>(&c), z.data(), 256);
  EXPECT_EQ(z[0], 0.25f * 2 * -17);
  EXPECT_EQ(z[1], 0.25f * 2 * -32);
}

// Every value ggml's own dequantize_row_* gave for the same blocks, bit for bit.
TEST(Quants, MatchGgmlBitForBit) {
  const std::string path = std::string(OPTIPFAIR_TEST_DATA_DIR) + "/kernels/data/ggml_dequant.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path;
  const nlohmann::json ref = nlohmann::json::parse(in);
  int types = 0;
  for (DType t : kBlockTypes) {
    SCOPED_TRACE(dtype_name(t));
    const nlohmann::json& r = ref.at(dtype_name(t));
    const int64_t blocks = r.at("blocks").get<int64_t>();
    const std::vector<uint8_t> bytes = random_blocks(t, blocks, r.at("seed").get<uint32_t>());
    // The test regenerates the same blocks; the file records their hash to prove it.
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
    ASSERT_EQ(h, r.at("fnv1a").get<uint64_t>()) << "the random blocks differ from those ggml dequantised";
    const int64_t n = blocks * dtype_block_elements(t);
    std::vector<float> y(static_cast<size_t>(n));
    dequantize_blocks(t, bytes.data(), y.data(), n);
    const std::vector<uint32_t> want = r.at("bits").get<std::vector<uint32_t>>();
    ASSERT_EQ(want.size(), y.size());
    for (int64_t i = 0; i < n; ++i) {
      uint32_t got;
      std::memcpy(&got, &y[static_cast<size_t>(i)], 4);
      ASSERT_EQ(got, want[static_cast<size_t>(i)]) << "element " << i;
    }
    ++types;
  }
  EXPECT_EQ(types, 8);
}

// The fast path (rows widened per work item, then each instruction set's float32 kernel) against
// the naive oracle, on strided rows, for one and many activation rows.
TEST(Quants, MatmulMatchesNaiveOnEveryIsa) {
  const MatmulIsa saved = matmul_isa();
  for (DType t : kBlockTypes) {
    const int64_t K = 2 * dtype_block_elements(t) * (t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K ? 1 : 8);
    const int64_t N = 37;
    const size_t row = dtype_bytes(t, K) + 10;  // strided, as a row-sliced tensor
    std::vector<uint8_t> w(row * N, 0xff);
    for (int64_t n = 0; n < N; ++n) {
      const std::vector<uint8_t> r = random_blocks(t, K / dtype_block_elements(t), static_cast<uint32_t>(7 * n + 1));
      std::memcpy(w.data() + row * n, r.data(), r.size());
    }
    const WeightMatrix m{w.data(), t, N, K, row};
    for (int64_t T : {1, 3, 70}) {
      std::mt19937 rng(static_cast<uint32_t>(T));
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> x(static_cast<size_t>(T * K)), ref(static_cast<size_t>(T * N)), y(ref.size());
      for (float& v : x) v = normal(rng);
      matmul_naive(ref.data(), x.data(), T, m);
      // Float32 accumulation error bound (as test_matmul.cpp): (K/8 + 8) * 2^-24 * sum_k |x w|.
      std::vector<double> scale(ref.size(), 0.0);
      std::vector<float> wrow(static_cast<size_t>(K));
      for (int64_t n = 0; n < N; ++n) {
        dequantize_row(wrow.data(), m, n);
        for (int64_t tt = 0; tt < T; ++tt)
          for (int64_t k = 0; k < K; ++k)
            scale[static_cast<size_t>(tt * N + n)] += std::fabs(static_cast<double>(x[static_cast<size_t>(tt * K + k)]) * wrow[static_cast<size_t>(k)]);
      }
      const double bound = (static_cast<double>(K) / 8.0 + 8.0) * std::ldexp(1.0, -24);
      for (MatmulIsa isa : {MatmulIsa::Scalar, MatmulIsa::Avx2, MatmulIsa::Avx512}) {
        if (isa > matmul_isa_best()) continue;
        matmul_set_isa(isa);
        for (Precision p : {Precision::Fast, Precision::Exact}) {
          std::fill(y.begin(), y.end(), -1.0f);
          matmul(y.data(), x.data(), T, m, p);
          for (size_t i = 0; i < y.size(); ++i)
            ASSERT_NEAR(y[i], ref[i], bound * scale[i] + 1e-30)
                << dtype_name(t) << " " << matmul_isa_name(isa) << " T=" << T << " i=" << i;
        }
      }
    }
  }
  matmul_set_isa(saved);
}

// The AVX-512 and AVX2 widenings (what matrix products use) equal the scalar reference bit for
// bit, including blocks whose quants are all at their extremes.
TEST(Quants, VectorWideningEqualsScalarBitForBit) {
  if (matmul_isa_best() < MatmulIsa::Avx2) GTEST_SKIP() << "CPU lacks AVX2";
  for (DType t : kBlockTypes) {
    std::vector<uint8_t> w = random_blocks(t, 64, 123);
    const std::vector<uint8_t> extremes = random_blocks(t, 2, 5);
    std::vector<uint8_t> ones(extremes.size(), 0xff), zeros(extremes.size(), 0);
    for (size_t off : half_fields(t))  // keep the scales finite
      for (size_t b = 0; b < 2; ++b)
        for (size_t i = 0; i < 2; ++i) {
          ones[b * dtype_block_bytes(t) + off + i] = extremes[b * dtype_block_bytes(t) + off + i];
          zeros[b * dtype_block_bytes(t) + off + i] = extremes[b * dtype_block_bytes(t) + off + i];
        }
    w.insert(w.end(), ones.begin(), ones.end());
    w.insert(w.end(), zeros.begin(), zeros.end());
    const int64_t n = static_cast<int64_t>(w.size() / dtype_block_bytes(t)) * dtype_block_elements(t);
    std::vector<float> a(static_cast<size_t>(n)), b(a.size());
    dequantize_blocks(t, w.data(), a.data(), n);
    detail::dequantize_blocks_avx2(t, w.data(), b.data(), n);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << dtype_name(t) << " avx2";
    if (matmul_isa_best() < MatmulIsa::Avx512) continue;
    std::fill(b.begin(), b.end(), -1.0f);
    detail::dequantize_blocks_avx512(t, w.data(), b.data(), n);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << dtype_name(t) << " avx512";
  }
}

// A row of x alone (T == 1) gives the bits it gives inside a batch, on every instruction set.
TEST(Quants, OneRowAloneEqualsItsRowInABatch) {
  const MatmulIsa saved = matmul_isa();
  for (DType t : kBlockTypes) {
    const int64_t K = 4608, N = 19, T = 5;  // K crosses the kernels' 2048-element blocks
    const std::vector<uint8_t> w = random_blocks(t, N * K / dtype_block_elements(t), 31);
    const WeightMatrix m{w.data(), t, N, K, dtype_bytes(t, K)};
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(T * K)), batch(static_cast<size_t>(T * N)), alone(static_cast<size_t>(N));
    for (float& v : x) v = normal(rng);
    for (MatmulIsa isa : {MatmulIsa::Scalar, MatmulIsa::Avx2, MatmulIsa::Avx512, MatmulIsa::Avx512Bf16}) {
      if (isa > matmul_isa_best()) continue;
      matmul_set_isa(isa);
      matmul(batch.data(), x.data(), T, m);
      for (int64_t r = 0; r < T; ++r) {
        matmul(alone.data(), x.data() + r * K, 1, m);
        ASSERT_EQ(0, std::memcmp(alone.data(), batch.data() + r * N, alone.size() * sizeof(float)))
            << dtype_name(t) << " " << matmul_isa_name(isa) << " row " << r;
      }
    }
  }
  matmul_set_isa(saved);
}

// Fast mode on the block types with AVX512_VNNI against their oracle (quants_test_support.h).
TEST(Quants, IntegerDotProductsMatchTheirOracle) {
  if (matmul_isa_best() < MatmulIsa::Avx512Bf16) GTEST_SKIP() << "CPU lacks AVX512_BF16 / AVX512_VNNI";
  const MatmulIsa saved = matmul_isa();
  matmul_set_isa(MatmulIsa::Avx512Bf16);
  for (DType t : kBlockTypes)
    for (int64_t K : {int64_t{256}, int64_t{768}, int64_t{4608}}) expect_integer_dots_match_oracle(t, K, false);
  matmul_set_isa(saved);
}

TEST(Quants, DequantizeRowMatchesBlocks) {
  for (DType t : kBlockTypes) {
    const int64_t K = dtype_block_elements(t) * 2;
    const std::vector<uint8_t> w = random_blocks(t, 6, 99);  // 3 rows of 2 blocks
    const WeightMatrix m{w.data(), t, 3, K, dtype_bytes(t, K)};
    std::vector<float> a(static_cast<size_t>(K)), b(a.size());
    dequantize_row(a.data(), m, 2);
    dequantize_blocks(t, w.data() + 2 * dtype_bytes(t, K), b.data(), K);
    EXPECT_EQ(a, b) << dtype_name(t);
  }
}

}  // namespace
