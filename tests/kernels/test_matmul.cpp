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
#include "util/error.h"

using namespace optipfair;

namespace {

// Bytes after each row that matmul must never read: a strided view, as a
// row-sliced (pruned) tensor is. They hold 0xff (NaN in every float format,
// a huge Q8_0 scale) so any over-read shows up in the results.
constexpr size_t kRowPad = 6;

struct TestMatrix {
  std::vector<uint8_t> bytes;
  std::vector<double> widened;  // the same weights as doubles, for error bounds
  WeightMatrix m;
};

TestMatrix make_matrix(DType dt, int64_t N, int64_t K, uint32_t seed) {
  TestMatrix tm;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> q(-127, 127);
  const size_t row = dtype_bytes(dt, K) + kRowPad;
  tm.bytes.assign(row * N + 1, 0xff);
  tm.widened.resize(N * K);
  for (int64_t n = 0; n < N; ++n) {
    uint8_t* r = tm.bytes.data() + row * n;
    for (int64_t k = 0; k < K; ++k) {
      const float v = normal(rng);
      double& out = tm.widened[n * K + k];
      if (dt == DType::F32) {
        std::memcpy(r + 4 * k, &v, 4);
        out = v;
      } else if (dt == DType::F16) {
        uint16_t h = f32_to_f16(v);
        std::memcpy(r + 2 * k, &h, 2);
        out = f16_to_f32(h);
      } else if (dt == DType::BF16) {
        uint16_t h = f32_to_bf16(v);
        std::memcpy(r + 2 * k, &h, 2);
        out = bf16_to_f32(h);
      }
    }
    if (dt == DType::Q8_0) {
      for (int64_t b = 0; b < K / kQ8BlockSize; ++b) {
        uint8_t* blk = r + b * sizeof(BlockQ8_0);
        const uint16_t s = f32_to_f16(0.01f + 0.05f * std::fabs(normal(rng)));
        std::memcpy(blk, &s, 2);
        for (int i = 0; i < kQ8BlockSize; ++i) {
          const int8_t v = static_cast<int8_t>(q(rng));
          std::memcpy(blk + 2 + i, &v, 1);
          tm.widened[n * K + b * kQ8BlockSize + i] = static_cast<double>(f16_to_f32(s)) * v;
        }
      }
    }
  }
  tm.m = WeightMatrix{tm.bytes.data(), dt, N, K, row};
  return tm;
}

std::vector<float> make_x(int64_t T, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(T * K);
  for (float& v : x) v = normal(rng);
  return x;
}

// sum_k |x[t,k] * w[n,k]|: the scale every rounding error of y[t,n] is relative to.
std::vector<double> abs_sums(const std::vector<float>& x, const TestMatrix& tm, int64_t T) {
  const int64_t N = tm.m.rows, K = tm.m.cols;
  std::vector<double> s(T * N, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) s[t * N + n] += std::fabs(x[t * K + k] * tm.widened[n * K + k]);
  return s;
}

std::vector<MatmulIsa> supported_isas() {
  std::vector<MatmulIsa> out;
  for (MatmulIsa i : {MatmulIsa::Scalar, MatmulIsa::Avx2, MatmulIsa::Avx512, MatmulIsa::Avx512Bf16})
    if (i <= matmul_isa_best()) out.push_back(i);
  return out;
}

// Restores the instruction-set choice whatever a test does.
struct MatmulSettingsGuard {
  MatmulIsa isa = matmul_isa();
  ~MatmulSettingsGuard() { matmul_set_isa(isa); }
};

Precision precision_of(bool exact) { return exact ? Precision::Exact : Precision::Fast; }

// Exact mode: the weights are widened without error (bf16, f16 and
// q8 * f16-scale all fit float32), so the only error is float32 accumulation.
// The kernels sum K terms in at least 8 interleaved lanes, then a tree of
// depth <= 4, plus one addition per K block; recursive summation then has
// worst-case error below (K/8 + 8) * 2^-24 * sum|x w| (Higham, Thm 4.1 with
// m = K/8 + 8 terms per chain), which also covers rounding the oracle's
// double result to float. For K = 1000 that is 7.9e-6 relative to sum|x w|;
// a wrong element, row or block errs by O(1) relative to it.
double exact_tol(int64_t K) { return (static_cast<double>(K) / 8.0 + 8.0) * std::ldexp(1.0, -24); }
// bf16 activations: rounding x to bf16 (8 significant bits, nearest even)
// moves each x_k by at most 2^-9 relative; 2^-8 adds margin for the final
// float32 rounding of the products' sum.
constexpr double kBf16Tol = 1.0 / 256.0;

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
