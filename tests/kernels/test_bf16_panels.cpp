// BF16 weights packed into panels (bf16_panels_pack) and multiplied from them in fast mode (with
// bf16 x on AVX512_BF16, float32 x on AVX2 and plain AVX-512): the layout element by element, the products against
// matmul_naive, and the same bits whatever the batch, the thread count or the group.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul.h"
#include "kernels/matmul_test_support.h"
#include "util/error.h"

using namespace optipfair;
using namespace optipfair::matmul_test;

namespace {

// The instruction sets this CPU has whose fast mode multiplies from BF16 panels.
std::vector<MatmulIsa> panel_isas() {
  std::vector<MatmulIsa> out;
  for (MatmulIsa isa : {MatmulIsa::Avx2, MatmulIsa::Avx512, MatmulIsa::Avx512Bf16})
    if (matmul_isa_best() >= isa) out.push_back(isa);
  return out;
}

TEST(Bf16Panels, LayoutHoldsEveryElementOnceAndZerosElsewhere) {
  for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 1}, {64, 2}, {65, 3}, {130, 7}, {7, 64}}) {
    SCOPED_TRACE("N=" + std::to_string(N) + " K=" + std::to_string(K));
    TestMatrix tm = make_matrix(DType::BF16, N, K, 5);
    attach_panels(tm);
    const int64_t panels = (N + kPanelRows - 1) / kPanelRows, stride = bf16_panel_stride(K);
    ASSERT_EQ(tm.panels.size(), static_cast<size_t>(panels * stride));
    for (int64_t pi = 0; pi < panels; ++pi)
      for (int64_t p = 0; p < (K + 1) / 2; ++p)
        for (int64_t r = 0; r < kPanelRows; ++r)
          for (int64_t h = 0; h < 2; ++h) {
            const int64_t n = pi * kPanelRows + r, k = 2 * p + h;
            const uint16_t got = tm.panels[static_cast<size_t>(pi * stride + (p * kPanelRows + r) * 2 + h)];
            if (n < N && k < K) {
              uint16_t want;
              std::memcpy(&want, tm.bytes.data() + n * tm.m.row_bytes + 2 * k, 2);
              ASSERT_EQ(got, want) << "n=" << n << " k=" << k;
            } else {
              ASSERT_EQ(got, 0) << "padding n=" << n << " k=" << k;
            }
          }
  }
}

TEST(Bf16Panels, RefusesOtherTypesAndOverflowingShapes) {
  TestMatrix tm = make_matrix(DType::F32, 4, 8, 1);
  std::vector<uint16_t> dst(bf16_panels_size(4, 8));
  EXPECT_THROW(bf16_panels_pack(dst.data(), tm.m), Error);
  EXPECT_THROW(bf16_panels_size(int64_t{1} << 40, int64_t{1} << 40), Error);
  EXPECT_THROW(bf16_panels_size(1, INT64_MAX - 1), Error);  // the stride alone would overflow
  EXPECT_THROW(bf16_panels_size(-1, 8), Error);
  EXPECT_EQ(bf16_panels_size(0, 8), 0u);
}

void expect_fast_products_match_oracle(MatmulIsa isa) {
  MatmulSettingsGuard guard;
  matmul_set_isa(isa);
  const bool f32_x = isa < MatmulIsa::Avx512Bf16;  // x is not rounded to bf16 there
  uint32_t seed = 100;
  for (int64_t K : {1, 2, 3, 31, 64, 577, 2048, 4201}) {
    for (int64_t N : {1, 17, 64, 65, 200}) {
      if (K > 2048 && N > 65) continue;  // keeps the oracle quick
      TestMatrix tm = make_matrix(DType::BF16, N, K, seed++);
      attach_panels(tm);
      for (int64_t T : {1, 5, 6, 7, 13, 130}) {
        SCOPED_TRACE(std::string(matmul_isa_name(isa)) + " K=" + std::to_string(K) + " N=" + std::to_string(N) +
                     " T=" + std::to_string(T));
        std::vector<float> x = make_x(T, K, seed++), ref(T * N), y(T * N, -1.0f);
        const std::vector<double> scale = abs_sums(x, tm, T);
        matmul_naive(ref.data(), x.data(), T, tm.m);
        matmul(y.data(), x.data(), T, tm.m, Precision::Fast);
        for (int64_t i = 0; i < T * N; ++i)
          ASSERT_NEAR(y[i], ref[i], ((f32_x ? 0 : kBf16Tol) + panels_tol(K)) * scale[i] + 1e-30) << "i=" << i;
        if (f32_x) continue;
        // With x rounded to bf16 beforehand, only the float32 sums may differ from the oracle.
        std::vector<float> xr(x.size());
        for (size_t i = 0; i < x.size(); ++i) xr[i] = bf16_to_f32(f32_to_bf16(x[i]));
        matmul_naive(ref.data(), xr.data(), T, tm.m);
        for (int64_t i = 0; i < T * N; ++i)
          ASSERT_NEAR(y[i], ref[i], panels_tol(K) * scale[i] + 1e-30) << "bf16-rounded x, i=" << i;
      }
    }
  }
}

// Odd K leaves a lone last column (x has nothing after it to read); N past a multiple of 64 a
// partial panel (and of 16, AVX2's share of one); T past a multiple of 6 (float32 x: 4) a partial
// tile; K > 2048 what the in-place tiles split.
TEST(Bf16Panels, FastProductsMatchTheOracle) {
  if (panel_isas().empty()) GTEST_SKIP() << "CPU lacks AVX2";
  for (MatmulIsa isa : panel_isas()) expect_fast_products_match_oracle(isa);
}

// A generated token (T == 1) reads the panels as a batch does (with float32 x through other tiles,
// adding in the same order), so its bits are its row's in the batch; one or two threads, one call
// per matrix or a group: the same bits too. Exact mode and scalar code ignore the panels (they
// equal the unpacked matrix's results).
TEST(Bf16Panels, SameBitsAloneInABatchInAGroupOnAnyThreadCount) {
  if (panel_isas().empty()) GTEST_SKIP() << "CPU lacks AVX2";
  MatmulSettingsGuard guard;
  const int saved = omp_get_max_threads();
  for (MatmulIsa panel_isa : panel_isas())
  for (int64_t K : {96, 1001, 4160}) {
    matmul_set_isa(panel_isa);
    const int64_t N = 193, T = 9;
    SCOPED_TRACE(std::string(matmul_isa_name(panel_isa)) + " K=" + std::to_string(K));
    TestMatrix tm = make_matrix(DType::BF16, N, K, 11), other = make_matrix(DType::BF16, 70, K, 12);
    const WeightMatrix unpacked = tm.m;
    attach_panels(tm);
    attach_panels(other);
    std::vector<float> x = make_x(T, K, 13), batch(T * N), alone(N), y(T * N), yo(T * 70), ro(T * 70);
    omp_set_num_threads(2);
    matmul(batch.data(), x.data(), T, tm.m, Precision::Fast);
    for (int64_t t = 0; t < T; ++t) {
      matmul(alone.data(), x.data() + t * K, 1, tm.m, Precision::Fast);
      ASSERT_EQ(0, std::memcmp(alone.data(), batch.data() + t * N, N * sizeof(float))) << "row " << t;
    }
    omp_set_num_threads(1);
    matmul(y.data(), x.data(), T, tm.m, Precision::Fast);
    EXPECT_EQ(0, std::memcmp(y.data(), batch.data(), y.size() * sizeof(float)));
    omp_set_num_threads(2);
    const MatmulOutput outs[] = {{y.data(), tm.m}, {yo.data(), other.m}};
    matmul_group(outs, x.data(), T, Precision::Fast);
    matmul(ro.data(), x.data(), T, other.m, Precision::Fast);
    EXPECT_EQ(0, std::memcmp(y.data(), batch.data(), y.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(yo.data(), ro.data(), yo.size() * sizeof(float)));
    for (auto [isa, precision] : {std::pair{panel_isa, Precision::Exact}, std::pair{MatmulIsa::Scalar, Precision::Fast}}) {
      if (matmul_set_isa(isa) != isa) continue;  // a weaker CPU than this test's
      std::vector<float> want(T * N);
      matmul(y.data(), x.data(), T, tm.m, precision);
      matmul(want.data(), x.data(), T, unpacked, precision);
      EXPECT_EQ(0, std::memcmp(y.data(), want.data(), y.size() * sizeof(float))) << matmul_isa_name(isa);
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace
