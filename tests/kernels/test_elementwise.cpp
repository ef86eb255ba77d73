#include "kernels/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace optipfair;

namespace {

std::vector<float> random_vec(int64_t n, uint32_t seed, float sd) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(RmsNorm, MatchesDoubleReference) {
  for (int64_t n : {1, 7, 64, 576, 2049}) {
    std::vector<float> x = random_vec(n, 1, 3.0f), w = random_vec(n, 2, 1.0f);
    std::vector<float> a(n), b(n);
    rmsnorm(a.data(), x.data(), w.data(), n, 1e-5f);
    rmsnorm_naive(b.data(), x.data(), w.data(), n, 1e-5f);
    // A few float32 roundings per element (sum of squares, sqrt, two products).
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], 1e-5 * std::fabs(b[i]) + 1e-30);
  }
}

TEST(RmsNorm, KnownValuesAndInPlace) {
  std::vector<float> x = {3.0f, -4.0f}, w = {1.0f, 2.0f};
  // mean(x^2) = 12.5 -> scale = 1/sqrt(12.5)
  rmsnorm(x.data(), x.data(), w.data(), 2, 0.0f);
  EXPECT_NEAR(x[0], 3.0 / std::sqrt(12.5), 1e-6);
  EXPECT_NEAR(x[1], -8.0 / std::sqrt(12.5), 1e-6);
  std::vector<float> z = {0.0f, 0.0f};
  rmsnorm(z.data(), z.data(), w.data(), 2, 1e-6f);  // eps keeps zeros finite
  EXPECT_EQ(z[0], 0.0f);
}

TEST(Softmax, MatchesDoubleReferenceAndSumsToOne) {
  for (int64_t n : {1, 5, 100, 4097}) {
    std::vector<float> a = random_vec(n, 3, 5.0f), b = a;
    softmax_inplace(a.data(), n);
    softmax_naive(b.data(), n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(a[i], b[i], 1e-6 * b[i] + 1e-12);
      sum += a[i];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(Softmax, WideRangeMatchesDoubleReference) {
  // Spread far enough that many terms fall below float's normal range (returned as 0).
  for (int64_t n : {3, 17, 1000}) {
    std::vector<float> a = random_vec(n, 11, 40.0f), b = a;
    softmax_inplace(a.data(), n);
    softmax_naive(b.data(), n);
    // x - max is rounded to float first: its error grows with |x - max| = |ln of the result|.
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(a[i], b[i], b[i] > 0 ? 4e-7 * (1 + std::fabs(std::log(b[i]))) * b[i] + 1e-37 : 0.0) << i;
  }
  // Every exponent the float range holds, one per softmax of {0, x}: e^x / (1 + e^x).
  for (float x = -87.0f; x <= 0.0f; x += 0.37f) {
    float v[2] = {0.0f, x};
    softmax_inplace(v, 2);
    const double e = std::exp(static_cast<double>(x));
    ASSERT_NEAR(v[1], e / (1 + e), 4e-7 * e / (1 + e)) << x;
  }
}

TEST(Softmax, StableForLargeInputsAndMasks) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {1000.0f, 999.0f, -inf};
  softmax_inplace(x.data(), 3);
  EXPECT_NEAR(x[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(x[1], std::exp(-1.0) / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(x[2], 0.0f);
  std::vector<float> masked = {-inf, -inf};
  softmax_inplace(masked.data(), 2);
  EXPECT_EQ(masked[0], 0.0f);
  EXPECT_EQ(masked[1], 0.0f);
  softmax_inplace(nullptr, 0);
}

TEST(LogSumExp, MatchesDoubleReference) {
  for (int64_t n : {1, 7, 255, 256, 257, 49152, 128256}) {
    const std::vector<float> x = random_vec(n, 21, 4.0f);
    const float mx = max_value(x.data(), n);
    float expect_max = x[0];
    for (float v : x) expect_max = std::max(expect_max, v);
    ASSERT_EQ(mx, expect_max);
    const double fast = log_sum_exp_shifted(x.data(), n, mx);
    const double ref = log_sum_exp_shifted_naive(x.data(), n, mx);
    // Float exponentials of float differences: a few ulps each, summed in blocks.
    ASSERT_NEAR(fast, ref, 1e-6 * (1 + std::fabs(ref))) << n;
  }
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> masked = {0.0f, -inf, -inf};
  EXPECT_NEAR(log_sum_exp_shifted(masked.data(), 3, 0.0f), 0.0, 1e-7);
  const std::vector<float> with_nan = {1.0f, std::nanf(""), 3.0f};
  EXPECT_EQ(max_value(with_nan.data(), 3), 3.0f);
}

// max_value and softmax keep sixteen running maxima and a scalar tail: the maximum in every lane,
// in the tail, first and last, with a NaN elsewhere (ignored unless it comes first).
TEST(MaxValue, FindsTheMaximumInEveryLaneAndTheTail) {
  const float nan = std::nanf("");
  for (int64_t n : {1, 2, 15, 16, 17, 18, 33, 47, 100}) {
    for (int64_t at = 0; at < n; ++at) {
      std::vector<float> x(n);
      for (int64_t i = 0; i < n; ++i) x[i] = -1.0f - static_cast<float>((i * 7) % 13);
      x[at] = 5.0f;
      ASSERT_EQ(max_value(x.data(), n), 5.0f) << n << " " << at;
      const int64_t other = (at + 1) % n;
      if (other == 0) continue;
      x[other] = nan;
      ASSERT_EQ(max_value(x.data(), n), 5.0f) << n << " " << at << " nan at " << other;
      std::vector<float> p = x;
      p[other] = -1.0f;
      softmax_inplace(p.data(), n);
      ASSERT_GT(p[at], p[other]) << n << " " << at;
    }
  }
  std::vector<float> first_nan(40, 1.0f);
  first_nan[0] = nan;
  EXPECT_TRUE(std::isnan(max_value(first_nan.data(), 40)));
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> masked(40, -inf);
  EXPECT_EQ(max_value(masked.data(), 40), -inf);
  softmax_inplace(masked.data(), 40);
  for (float v : masked) ASSERT_EQ(v, 0.0f);
}

TEST(SiluMul, MatchesFormulaAndExtremes) {
  std::vector<float> g = random_vec(300, 4, 4.0f), u = random_vec(300, 5, 1.0f), out = g;
  silu_mul_inplace(out.data(), u.data(), 300);
  for (int i = 0; i < 300; ++i) {
    const double want = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
    ASSERT_NEAR(out[i], want, 1e-6 * std::fabs(want) + 1e-30);
  }
  // Against the double oracle over the whole range; where exp(-|g|) nears FLT_MIN (g < -87)
  // results under 1e-35 may come out as 0.
  std::vector<float> wide = random_vec(4099, 6, 100.0f), wide_up = random_vec(4099, 7, 3.0f), want = wide;
  silu_mul_naive(want.data(), wide_up.data(), 4099);
  silu_mul_inplace(wide.data(), wide_up.data(), 4099);
  for (int i = 0; i < 4099; ++i) ASSERT_NEAR(wide[i], want[i], 1e-6 * std::fabs(want[i]) + 1e-35) << i;
  std::vector<float> ext = {-200.0f, 200.0f, 0.0f}, ones = {1.0f, 1.0f, 1.0f};
  silu_mul_inplace(ext.data(), ones.data(), 3);
  EXPECT_EQ(ext[0], -0.0f);  // exp(200) overflows to inf: -200/inf is -0, not NaN
  EXPECT_EQ(ext[1], 200.0f);
  EXPECT_EQ(ext[2], 0.0f);
}

TEST(GeluTanhMul, MatchesDoubleOracleOverTheRange) {
  // Large |g| included: the tanh saturates (gelu(g) -> g or -0) and must neither overflow nor
  // give NaN; near 0 the error stays absolute, not relative.
  std::vector<float> g = random_vec(4099, 8, 12.0f), u = random_vec(4099, 9, 2.0f), want = g, got = g;
  gelu_tanh_mul_naive(want.data(), u.data(), 4099);
  gelu_tanh_mul_inplace(got.data(), u.data(), 4099);
  for (int i = 0; i < 4099; ++i) ASSERT_NEAR(got[i], want[i], 2e-6 * std::fabs(want[i]) + 2e-7) << g[i];
  std::vector<float> ext = {-1000.0f, 1000.0f, 0.0f, 1.0f}, ones(4, 1.0f);
  gelu_tanh_mul_inplace(ext.data(), ones.data(), 4);
  EXPECT_EQ(ext[0], 0.0f);
  EXPECT_EQ(ext[1], 1000.0f);
  EXPECT_EQ(ext[2], 0.0f);
  EXPECT_NEAR(ext[3], 0.8411920f, 1e-6);  // torch.nn.functional.gelu(1.0, approximate="tanh")
}

TEST(Softcap, MatchesDoubleOracleAndBoundsEveryValue) {
  std::vector<float> x = random_vec(1000, 10, 200.0f), want = x, got = x;
  softcap_naive(want.data(), 1000, 30.0f);
  softcap_inplace(got.data(), 1000, 30.0f);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_NEAR(got[i], want[i], 4e-6 * 30.0f) << x[i];
    ASSERT_LE(std::fabs(got[i]), 30.0f);
  }
}

}  // namespace
