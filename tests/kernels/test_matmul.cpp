// matmul (every instruction-set path the CPU has) against matmul_naive, and
// matmul_naive against hand-computed values.
#include "kernels/matmul.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul_test_support.h"
#include "util/error.h"

using namespace optipfair;
using namespace optipfair::matmul_test;

namespace {

class MatmulVsNaive : public ::testing::TestWithParam<std::tuple<DType, MatmulIsa>> {};

TEST_P(MatmulVsNaive, AllShapes) {
  const auto [dt, isa] = GetParam();
  if (isa > matmul_isa_best()) GTEST_SKIP() << "CPU lacks " << matmul_isa_name(isa);
  MatmulSettingsGuard guard;
  matmul_set_isa(isa);
  const bool bf16_path = dt == DType::BF16 && isa == MatmulIsa::Avx512Bf16;
  uint32_t seed = 1;
  // K > 2048 crosses the kernels' K blocking (added block by block into y);
  // kept to small N and T so the oracle stays quick.
  const std::vector<std::tuple<int64_t, std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {32, {1, 7, 64, 193}, {1, 2, 3, 5, 8, 17, 64, 130}},
      {64, {1, 7, 64, 193}, {1, 2, 3, 5, 8, 17, 64, 130}},
      {96, {1, 7, 64, 193}, {1, 2, 3, 5, 8, 17, 64, 130}},
      {576, {1, 7, 64, 193}, {1, 2, 3, 5, 8, 17, 64, 65, 129, 130}},  // 65, 129: chunks of x rows split evenly
      {1000, {1, 7, 64, 193}, {1, 2, 3, 5, 8, 17, 64, 130}},
      {4160, {1, 9}, {1, 7, 13}},
      {4200, {9}, {1, 7}},
  };
  for (const auto& [K, Ns, Ts] : cases) {
    if (dt == DType::Q8_0 && K % kQ8BlockSize != 0) continue;
    for (int64_t N : Ns) {
      TestMatrix tm = make_matrix(dt, N, K, seed++);
      for (int64_t T : Ts) {
        SCOPED_TRACE("K=" + std::to_string(K) + " N=" + std::to_string(N) + " T=" + std::to_string(T));
        std::vector<float> x = make_x(T, K, seed++);
        std::vector<float> ref(T * N), y(T * N, -1.0f);
        matmul_naive(ref.data(), x.data(), T, tm.m);
        const std::vector<double> scale = abs_sums(x, tm, T);
        for (bool exact : {true, false}) {
          if (!exact && !bf16_path) continue;  // the switch changes nothing else
          std::fill(y.begin(), y.end(), -1.0f);
          matmul(y.data(), x.data(), T, tm.m, precision_of(exact));
          const double tol = exact || !bf16_path ? exact_tol(K) : kBf16Tol + exact_tol(K);
          for (int64_t i = 0; i < T * N; ++i)
            ASSERT_NEAR(y[i], ref[i], tol * scale[i] + 1e-30) << "exact=" << exact << " i=" << i;
        }
        if (bf16_path) {
          // With x rounded to bf16 the same way, the fast path must be as
          // accurate as exact mode: this pins the rounding to nearest even.
          std::vector<float> xr(x.size());
          for (size_t i = 0; i < x.size(); ++i) xr[i] = bf16_to_f32(f32_to_bf16(x[i]));
          matmul_naive(ref.data(), xr.data(), T, tm.m);
          matmul(y.data(), x.data(), T, tm.m, Precision::Fast);
          for (int64_t i = 0; i < T * N; ++i)
            ASSERT_NEAR(y[i], ref[i], exact_tol(K) * scale[i] * 1.01 + 1e-30) << "bf16-rounded x, i=" << i;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, MatmulVsNaive,
    ::testing::Combine(::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q8_0),
                       ::testing::Values(MatmulIsa::Scalar, MatmulIsa::Avx2, MatmulIsa::Avx512,
                                         MatmulIsa::Avx512Bf16)),
    [](const auto& p) {
      return std::string(dtype_name(std::get<0>(p.param))) + "_" +
             matmul_isa_name(std::get<1>(p.param));
    });

TEST(Matmul, OneAndTwoThreadsGiveIdenticalBits) {
  MatmulSettingsGuard guard;
  const int saved = omp_get_max_threads();
  for (MatmulIsa isa : supported_isas()) {
    matmul_set_isa(isa);
    for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
      for (bool exact : {true, false}) {
        for (auto [T, K, N] : {std::tuple<int64_t, int64_t, int64_t>{1, 1024, 193}, {130, 576, 193},
                               {67, 96, 7}, {200, 64, 1000}, {20, 4160, 67}}) {
          SCOPED_TRACE(std::string(matmul_isa_name(isa)) + " " + dtype_name(dt) + " T=" +
                       std::to_string(T) + " exact=" + std::to_string(exact));
          TestMatrix tm = make_matrix(dt, N, K, 7);
          std::vector<float> x = make_x(T, K, 8), y1(T * N), y2(T * N);
          omp_set_num_threads(1);
          matmul(y1.data(), x.data(), T, tm.m, precision_of(exact));
          omp_set_num_threads(2);
          matmul(y2.data(), x.data(), T, tm.m, precision_of(exact));
          ASSERT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
        }
      }
    }
  }
  omp_set_num_threads(saved);
}

// A row of x gives the same bits alone (T == 1, the row-at-a-time generation kernels) as inside a
// batch (the tiles), on every path: evaluation scores must not depend on which requests share a
// forward call (or an MPI rank). K values cross the 2048-element blocks and leave masked tails.
TEST(Matmul, OneRowAloneEqualsItsRowInABatch) {
  MatmulSettingsGuard guard;
  for (MatmulIsa isa : supported_isas()) {
    matmul_set_isa(isa);
    for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
      for (int64_t K : {int64_t{40}, int64_t{96}, int64_t{1000}, int64_t{4160}, int64_t{4200}}) {
        if (dt == DType::Q8_0 && K % kQ8BlockSize != 0) continue;
        const int64_t N = 37, T = 9;
        TestMatrix tm = make_matrix(dt, N, K, 11);
        std::vector<float> x = make_x(T, K, 12), batch(T * N), alone(N);
        for (bool exact : {true, false}) {
          SCOPED_TRACE(std::string(matmul_isa_name(isa)) + " " + dtype_name(dt) + " K=" + std::to_string(K) +
                       " exact=" + std::to_string(exact));
          matmul(batch.data(), x.data(), T, tm.m, precision_of(exact));
          for (int64_t t = 0; t < T; ++t) {
            matmul(alone.data(), x.data() + t * K, 1, tm.m, precision_of(exact));
            ASSERT_EQ(0, std::memcmp(alone.data(), batch.data() + t * N, N * sizeof(float))) << "row " << t;
          }
        }
      }
    }
  }
}

// q, k and v (or gate and up) in one call give each matrix's own bits, in any mix of types.
TEST(MatmulGroup, EqualsOneCallPerMatrix) {
  MatmulSettingsGuard guard;
  for (MatmulIsa isa : supported_isas()) {
    matmul_set_isa(isa);
    TestMatrix a = make_matrix(DType::BF16, 70, 576, 21), b = make_matrix(DType::Q8_0, 3, 576, 22),
               c = make_matrix(DType::F32, 129, 576, 23);
    for (int64_t T : {int64_t{1}, int64_t{7}, int64_t{130}}) {
      for (bool exact : {true, false}) {
        SCOPED_TRACE(std::string(matmul_isa_name(isa)) + " T=" + std::to_string(T) + " exact=" + std::to_string(exact));
        std::vector<float> x = make_x(T, 576, 24);
        std::vector<float> ya(T * 70), yb(T * 3), yc(T * 129), ra(ya.size()), rb(yb.size()), rc(yc.size());
        const MatmulOutput outs[] = {{ya.data(), a.m}, {yb.data(), b.m}, {yc.data(), c.m}};
        matmul_group(outs, x.data(), T, precision_of(exact));
        matmul(ra.data(), x.data(), T, a.m, precision_of(exact));
        matmul(rb.data(), x.data(), T, b.m, precision_of(exact));
        matmul(rc.data(), x.data(), T, c.m, precision_of(exact));
        EXPECT_EQ(0, std::memcmp(ya.data(), ra.data(), ya.size() * sizeof(float)));
        EXPECT_EQ(0, std::memcmp(yb.data(), rb.data(), yb.size() * sizeof(float)));
        EXPECT_EQ(0, std::memcmp(yc.data(), rc.data(), yc.size() * sizeof(float)));
      }
    }
  }
}

TEST(MatmulGroup, RefusesMatricesOfOtherWidthsAndTooManyMatrices) {
  TestMatrix a = make_matrix(DType::F32, 4, 64, 1), b = make_matrix(DType::F32, 4, 96, 2);
  std::vector<float> x(96, 1.0f), y1(4), y2(4);
  const MatmulOutput mixed[] = {{y1.data(), a.m}, {y2.data(), b.m}};
  EXPECT_THROW(matmul_group(mixed, x.data(), 1), Error);
  std::vector<MatmulOutput> many(9, MatmulOutput{y1.data(), a.m});
  EXPECT_THROW(matmul_group(many, x.data(), 1), Error);
  matmul_group({}, x.data(), 1);  // nothing to do
}

TEST(MatmulNaive, HandComputed) {
  // W = [[1, 2, 3], [-1, 0.5, 4]] in bf16 (all exact), x = [[1, 1, 1], [2, 0, -1]].
  const uint16_t w[6] = {0x3f80, 0x4000, 0x4040, 0xbf80, 0x3f00, 0x4080};
  const float x[6] = {1, 1, 1, 2, 0, -1};
  WeightMatrix m{w, DType::BF16, 2, 3, 6};
  float y[4];
  matmul_naive(y, x, 2, m);
  EXPECT_EQ(y[0], 6.0f);
  EXPECT_EQ(y[1], 3.5f);
  EXPECT_EQ(y[2], -1.0f);
  EXPECT_EQ(y[3], -6.0f);
  matmul(y, x, 2, m);
  EXPECT_EQ(y[0], 6.0f);
  EXPECT_EQ(y[3], -6.0f);
}

TEST(MatmulNaive, Q8BlockIsScaleTimesInt) {
  std::vector<uint8_t> blk(sizeof(BlockQ8_0));
  const uint16_t half = 0x3800;  // 0.5
  std::memcpy(blk.data(), &half, 2);
  for (int i = 0; i < kQ8BlockSize; ++i) blk[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 16));
  WeightMatrix m{blk.data(), DType::Q8_0, 1, 32, blk.size()};
  std::vector<float> x(32, 1.0f);
  float y = 0;
  matmul_naive(&y, x.data(), 1, m);
  EXPECT_EQ(y, 0.5f * -16.0f);  // sum of -16..15 is -16
  std::vector<float> row(32);
  dequantize_row(row.data(), m, 0);
  EXPECT_EQ(row[0], -8.0f);
  EXPECT_EQ(row[31], 7.5f);
}

TEST(Matmul, EmptyShapes) {
  const float x[4] = {1, 2, 3, 4};
  float y[4] = {7, 7, 7, 7};
  const float w[4] = {1, 1, 1, 1};
  matmul(y, x, 0, WeightMatrix{w, DType::F32, 2, 2, 8});
  EXPECT_EQ(y[0], 7.0f);
  matmul(y, x, 2, WeightMatrix{w, DType::F32, 2, 0, 0});  // K = 0: empty sums
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[3], 0.0f);
}

TEST(Matmul, BadInputThrows) {
  std::vector<uint8_t> buf(1024);
  float x[64] = {}, y[64];
  EXPECT_THROW(matmul(y, x, 1, WeightMatrix{buf.data(), DType::Q8_0, 1, 48, 1024}), Error);
  EXPECT_THROW(matmul(y, x, 1, WeightMatrix{buf.data(), DType::F32, 2, 64, 100}), Error);
  EXPECT_THROW(matmul(y, x, -1, WeightMatrix{buf.data(), DType::F32, 1, 4, 16}), Error);
  EXPECT_THROW(matmul(y, x, 1, WeightMatrix{nullptr, DType::F32, 1, 4, 16}), Error);
  EXPECT_THROW(matmul_naive(y, x, 1, WeightMatrix{buf.data(), DType::BF16, 1, 64, 64}), Error);
  EXPECT_THROW(dequantize_row(y, WeightMatrix{buf.data(), DType::F32, 2, 4, 16}, 2), Error);
}

TEST(DequantizeRow, EveryTypeMatchesScalarConversions) {
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    TestMatrix tm = make_matrix(dt, 5, 96, 3);
    std::vector<float> row(96);
    for (int64_t n = 0; n < 5; ++n) {
      dequantize_row(row.data(), tm.m, n);
      for (int64_t k = 0; k < 96; ++k) ASSERT_EQ(row[k], tm.widened[n * 96 + k]) << dtype_name(dt);
    }
  }
}

TEST(MatmulSettings, IsaClampsAndPrecisionNames) {
  MatmulSettingsGuard guard;
  EXPECT_EQ(matmul_set_isa(MatmulIsa::Avx512Bf16), matmul_isa_best());
  EXPECT_EQ(matmul_set_isa(MatmulIsa::Scalar), MatmulIsa::Scalar);
  EXPECT_EQ(matmul_isa(), MatmulIsa::Scalar);
  EXPECT_EQ(precision_from_name("exact"), Precision::Exact);
  EXPECT_EQ(precision_from_name("fast"), Precision::Fast);
  EXPECT_STREQ(precision_name(Precision::Exact), "exact");
  EXPECT_THROW(precision_from_name("exactly"), Error);
  EXPECT_STREQ(matmul_isa_name(MatmulIsa::Avx2), "avx2");
}

}  // namespace
