// Every GGUF block type's weights packed into panels (block_panels_pack) and multiplied from
// them in fast mode with integer dot products: the layout byte by byte, the products against their
// oracle, and the same bits whatever the batch, the thread count or the group.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul.h"
#include "kernels/matmul_test_support.h"
#include "kernels/quants.h"
#include "kernels/quants_test_support.h"
#include "util/error.h"

using namespace optipfair;
using namespace optipfair::quants_test;

namespace {

bool cpu_has_panels() { return matmul_isa_best() >= MatmulIsa::Avx512Bf16; }

constexpr DType kTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// The 32-value types: per block the rows' quant bytes by 4-byte words, for Q5_0 and Q5_1 a vector
// of their fifth bits (value j's bit in byte j % 4 of its row's 4, at bit j / 4 for j < 16 and
// 4 + (j - 16) / 4 above), the 16 scales, for Q4_1 and Q5_1 the 16 minimums.
TEST(BlockPanels, LayoutHoldsEveryBlockOnceAndZerosElsewhere) {
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0})
    for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 32}, {16, 64}, {19, 96}, {40, 2048}}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
      const bool q8 = t == DType::Q8_0, five = t == DType::Q5_0 || t == DType::Q5_1, min = t == DType::Q4_1 || t == DType::Q5_1;
      const int64_t nb = K / 32, panels = (N + 15) / 16, stride = block_panel_bytes(t, K);
      const size_t words = q8 ? 8 : 4, quant_bytes = 64 * words + (five ? 64 : 0), block_bytes = dtype_block_bytes(t);
      const size_t unit = quant_bytes + (min ? 64 : 32);
      const std::vector<uint8_t> w = random_blocks(t, N * nb, 7);
      WeightMatrix m{w.data(), t, N, K, dtype_bytes(t, K)};
      std::vector<uint8_t> p;
      attach_block_panels(m, p);
      ASSERT_EQ(stride % 64, 0);
      ASSERT_GE(static_cast<size_t>(stride), static_cast<size_t>(nb) * unit);
      ASSERT_EQ(p.size(), static_cast<size_t>(panels * stride));
      std::vector<int> seen(p.size(), 0);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* blk = w.data() + n * m.row_bytes + static_cast<size_t>(b) * block_bytes;
          // Block b of a panel: its quants, then its 16 scales (and minimums).
          const size_t base = static_cast<size_t>(n / 16 * stride) + static_cast<size_t>(b) * unit;
          const size_t r = static_cast<size_t>(n % 16), scale = base + quant_bytes + 2 * r;
          ASSERT_EQ(0, std::memcmp(&p[scale], blk, 2)) << "scale of row " << n << " block " << b;
          seen[scale] = seen[scale + 1] = 1;
          if (min) {
            ASSERT_EQ(0, std::memcmp(&p[scale + 32], blk + 2, 2)) << "minimum of row " << n << " block " << b;
            seen[scale + 32] = seen[scale + 33] = 1;
          }
          const uint8_t* qs = blk + block_bytes - 4 * words;
          for (size_t g = 0; g < words; ++g)
            for (size_t i = 0; i < 4; ++i) {
              const size_t at = base + 64 * g + 4 * r + i;
              const uint8_t want = static_cast<uint8_t>(qs[4 * g + i] ^ (q8 ? 0x80 : 0));  // Q8_0: value + 128
              ASSERT_EQ(p[at], want) << "row " << n << " block " << b << " word " << g;
              seen[at] = 1;
            }
          if (five) {
            uint32_t qh;
            std::memcpy(&qh, blk + (min ? 4 : 2), 4);
            uint8_t want[4] = {};
            for (int j = 0; j < 32; ++j)
              if (qh >> j & 1u) want[j % 4] = static_cast<uint8_t>(want[j % 4] | 1u << (j < 16 ? j / 4 : 4 + (j - 16) / 4));
            for (size_t i = 0; i < 4; ++i) {
              const size_t at = base + 256 + 4 * r + i;
              ASSERT_EQ(p[at], want[i]) << "fifth bits of row " << n << " block " << b;
              seen[at] = 1;
            }
          }
        }
      for (size_t i = 0; i < p.size(); ++i) {
        if (!seen[i]) {
          ASSERT_EQ(p[i], 0) << "byte " << i << " holds no weight and should be zero";
        }
      }
    }
}

// A K-quant matrix of 19 rows x 512 columns packed; `check(blk, base, r, expect_at)` checks one
// row's block `blk` against its panel block at byte `base` (the row's lane r), marking the bytes it
// expects through expect_at(byte, value, what); every byte left unmarked must be zero.
template <class Block, class Check>
void expect_k_layout(DType t, size_t unit, Check check) {
  const int64_t N = 19, K = 512, nb = K / 256, panels = (N + 15) / 16, stride = block_panel_bytes(t, K);
  const std::vector<uint8_t> w = random_blocks(t, N * nb, 8);
  WeightMatrix m{w.data(), t, N, K, dtype_bytes(t, K)};
  std::vector<uint8_t> p;
  attach_block_panels(m, p);
  ASSERT_EQ(stride % 64, 0);
  ASSERT_GE(static_cast<size_t>(stride), static_cast<size_t>(nb) * unit);
  ASSERT_EQ(p.size(), static_cast<size_t>(panels * stride));
  std::vector<int> seen(p.size(), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < nb; ++b) {
      const auto blk = load_block<Block>(w.data() + n * m.row_bytes + static_cast<size_t>(b) * sizeof(Block));
      const size_t base = static_cast<size_t>(n / 16 * stride) + static_cast<size_t>(b) * unit, r = static_cast<size_t>(n % 16);
      auto expect_at = [&](size_t at, uint8_t want, const char* what) {
        ASSERT_EQ(p[at], want) << what << " of row " << n << " block " << b;
        seen[at] = 1;
      };
      check(blk, base, r, expect_at);
    }
  for (size_t i = 0; i < p.size(); ++i) {
    if (!seen[i]) {
      ASSERT_EQ(p[i], 0) << "byte " << i << " holds no weight and should be zero";
    }
  }
}

// Q4_K and Q5_K: per block of 256 columns, the 16 rows' quant bytes by 4-byte words (Q4_K: word g
// of chunk c in vector 8c + g; Q5_K: qh word g in vector 5g, word g of chunk c in 5g + 1 + c), the
// 8 sub-blocks' scales and minimums unpacked to one byte each (16 rows per sub-block), d and dmin.
template <class Block>
void expect_qk45_layout(DType t) {
  constexpr bool five = std::is_same_v<Block, BlockQ5_K>;
  constexpr size_t quant = five ? 2560 : 2048;
  expect_k_layout<Block>(t, quant + 256 + 64, [](const Block& blk, size_t base, size_t r, auto expect_at) {
    for (size_t v = 0; v < 32; ++v)
      for (size_t i = 0; i < 4; ++i) expect_at(base + 64 * (five ? 5 * (v % 8) + 1 + v / 8 : v) + 4 * r + i, blk.qs[4 * v + i], "quant");
    if constexpr (five)
      for (size_t g = 0; g < 8; ++g)
        for (size_t i = 0; i < 4; ++i) expect_at(base + 64 * 5 * g + 4 * r + i, blk.qh[4 * g + i], "fifth bits");
    for (int j = 0; j < 8; ++j) {
      uint8_t sc = 0, mn = 0;
      k_scale_min(j, blk.scales, sc, mn);
      expect_at(base + quant + 16 * static_cast<size_t>(j) + r, sc, "scale");
      expect_at(base + quant + 128 + 16 * static_cast<size_t>(j) + r, mn, "minimum");
    }
    for (size_t i = 0; i < 2; ++i) {
      expect_at(base + quant + 256 + 2 * r + i, reinterpret_cast<const uint8_t*>(&blk.d)[i], "d");
      expect_at(base + quant + 256 + 32 + 2 * r + i, reinterpret_cast<const uint8_t*>(&blk.dmin)[i], "dmin");
    }
  });
}

TEST(BlockPanels, Q4KAndQ5KLayoutsHoldQuantsScalesAndMinimumsOnce) {
  expect_qk45_layout<BlockQ4_K>(DType::Q4_K);
  expect_qk45_layout<BlockQ5_K>(DType::Q5_K);
}

// Q6_K: per block of 256 columns, per half h and word g the vectors of the rows' ql words 16h + g
// and 16h + 8 + g and of their qh word 8h + g, the 16 scales (16 rows each), then d: the file's
// 210 bytes a row, moved.
TEST(BlockPanels, Q6KLayoutHoldsLowAndHighBitsScalesOnce) {
  expect_k_layout<BlockQ6_K>(DType::Q6_K, 2048 + 1024 + 256 + 32, [](const BlockQ6_K& blk, size_t base, size_t r, auto expect_at) {
    for (size_t h = 0; h < 2; ++h)
      for (size_t g = 0; g < 8; ++g)
        for (size_t i = 0; i < 4; ++i) {
          const size_t at = base + 64 * (24 * h + 3 * g) + 4 * r + i;
          expect_at(at, blk.ql[4 * (16 * h + g) + i], "low bits");
          expect_at(at + 64, blk.ql[4 * (16 * h + 8 + g) + i], "low bits");
          expect_at(at + 128, blk.qh[4 * (8 * h + g) + i], "high bits");
        }
    for (size_t k = 0; k < 16; ++k) expect_at(base + 3072 + 16 * k + r, static_cast<uint8_t>(blk.scales[k]), "scale");
    for (size_t i = 0; i < 2; ++i) expect_at(base + 3328 + 2 * r + i, reinterpret_cast<const uint8_t*>(&blk.d)[i], "d");
  });
}

TEST(BlockPanels, RefusesOtherTypesPartialBlocksAndOverflow) {
  const std::vector<uint8_t> w(dtype_bytes(DType::BF16, 64 * 4), 0);
  std::vector<uint8_t> p(4096);
  EXPECT_THROW(block_panels_pack(p.data(), WeightMatrix{w.data(), DType::BF16, 4, 64, 128}), Error);
  EXPECT_THROW(block_panels_size(DType::F16, 4, 64), Error);
  for (DType t : kTypes) {
    const int64_t u = dtype_block_elements(t);  // columns of one block
    EXPECT_THROW(block_panels_size(t, 4, u + 16), Error);
    EXPECT_THROW(block_panels_size(t, -1, 2 * u), Error);
    EXPECT_THROW(block_panels_size(t, int64_t{1} << 40, int64_t{1} << 30), Error);
    EXPECT_THROW(block_panels_size(t, 1, INT64_MAX / 256 * 256), Error);
    EXPECT_THROW(block_panels_pack(p.data(), WeightMatrix{nullptr, t, 4, 2 * u, dtype_bytes(t, 2 * u)}), Error);
    EXPECT_THROW(block_panels_pack(p.data(), WeightMatrix{w.data(), t, 4, 2 * u, 20}), Error);
  }
}

// N = 19 leaves a partial panel; T = 6 a partial tile of x rows; K = 4608 crosses the in-place
// kernels' 2048-value blocks.
TEST(BlockPanels, FastProductsMatchTheirOracle) {
  if (!cpu_has_panels()) GTEST_SKIP() << "CPU lacks AVX512_VNNI";
  matmul_test::MatmulSettingsGuard guard;
  matmul_set_isa(MatmulIsa::Avx512Bf16);
  for (DType t : kTypes)
    for (int64_t K : {int64_t{64}, int64_t{256}, int64_t{768}, int64_t{4608}})
      if (K % dtype_block_elements(t) == 0) expect_integer_dots_match_oracle(t, K, true);
}

// A generated token (T == 1) reads the panels as a batch does (Q5_K and Q6_K sum a block's exact
// integers in another order), so its bits are its row's in the batch; one or two threads, one
// call per matrix or a group: the same bits too. Exact mode and a weaker instruction set ignore
// the panels (they equal the unpacked matrix's results), and so does a K the integer path does
// not take (not a multiple of 64).
TEST(BlockPanels, SameBitsAloneInABatchInAGroupOnAnyThreadCount) {
  if (!cpu_has_panels()) GTEST_SKIP() << "CPU lacks AVX512_VNNI";
  matmul_test::MatmulSettingsGuard guard;
  matmul_set_isa(MatmulIsa::Avx512Bf16);
  const int saved = omp_get_max_threads();
  for (DType type : kTypes)
  for (int64_t K : {int64_t{96}, int64_t{128}, int64_t{4160}, int64_t{256}, int64_t{4352}}) {
    const int64_t N = 37, T = 13, No = 70, u = dtype_block_elements(type);
    if (K % u != 0) continue;
    SCOPED_TRACE(std::string(dtype_name(type)) + " K=" + std::to_string(K));
    const std::vector<uint8_t> w = random_blocks(type, N * K / u, 11), wo = random_blocks(type, No * K / u, 12);
    const size_t row = dtype_bytes(type, K);
    WeightMatrix m{w.data(), type, N, K, row}, mo{wo.data(), type, No, K, row};
    const WeightMatrix unpacked = m;
    std::vector<uint8_t> pm, po;
    attach_block_panels(m, pm);
    attach_block_panels(mo, po);
    std::vector<float> x = matmul_test::make_x(T, K, 13), batch(T * N), alone(N), y(T * N), yo(T * No), ro(T * No);
    omp_set_num_threads(2);
    // 37 rows: 2 whole panels and a partial one; 70: 4 and a partial one.
    matmul(ro.data(), x.data(), T, mo, Precision::Fast);
    std::vector<float> alone_o(No);
    for (int64_t t = 0; t < T; ++t) {
      matmul(alone_o.data(), x.data() + t * K, 1, mo, Precision::Fast);
      ASSERT_EQ(0, std::memcmp(alone_o.data(), ro.data() + t * No, No * sizeof(float))) << "70 rows, row " << t;
    }
    matmul(batch.data(), x.data(), T, m, Precision::Fast);
    for (int64_t t = 0; t < T; ++t) {
      matmul(alone.data(), x.data() + t * K, 1, m, Precision::Fast);
      ASSERT_EQ(0, std::memcmp(alone.data(), batch.data() + t * N, N * sizeof(float))) << "row " << t;
    }
    omp_set_num_threads(1);
    matmul(y.data(), x.data(), T, m, Precision::Fast);
    EXPECT_EQ(0, std::memcmp(y.data(), batch.data(), y.size() * sizeof(float)));
    omp_set_num_threads(2);
    const MatmulOutput outs[] = {{y.data(), m}, {yo.data(), mo}};
    matmul_group(outs, x.data(), T, Precision::Fast);
    matmul(ro.data(), x.data(), T, mo, Precision::Fast);
    EXPECT_EQ(0, std::memcmp(y.data(), batch.data(), y.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(yo.data(), ro.data(), yo.size() * sizeof(float)));
    std::vector<std::pair<MatmulIsa, Precision>> ignoring = {{MatmulIsa::Avx512Bf16, Precision::Exact}, {MatmulIsa::Avx512, Precision::Fast}};
    if (K % 64 != 0) ignoring.push_back({MatmulIsa::Avx512Bf16, Precision::Fast});
    for (auto [isa, precision] : ignoring) {
      matmul_set_isa(isa);
      std::vector<float> want(T * N);
      matmul(y.data(), x.data(), T, m, precision);
      matmul(want.data(), x.data(), T, unpacked, precision);
      EXPECT_EQ(0, std::memcmp(y.data(), want.data(), y.size() * sizeof(float))) << matmul_isa_name(isa) << " " << precision_name(precision);
    }
    matmul_set_isa(MatmulIsa::Avx512Bf16);
  }
  omp_set_num_threads(saved);
}

}  // namespace
