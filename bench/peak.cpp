// Register-only multiply-add loops for bench_peak.h. Each runs only after a CPU check, so the
// file is compiled for AVX-512 through a pragma placed after every #include (as in src/kernels).
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "bench_peak.h"
#include "kernels/matmul.h"

// GCC 12's AVX-512 intrinsics read a deliberately uninitialised value (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")
#endif

namespace optipfair::bench {
namespace {

// 24 accumulators, more than latency times issue rate on current cores, so the loop is bound by
// throughput. They are named values because an array of them stayed in memory at -O2, and start
// from different values because identical ones were merged into one; the empty asm keeps the
// compiler from hoisting the products out of the loop.
#define OPF_PEAK_EACH(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) \
  M(12) M(13) M(14) M(15) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23)
#define OPF_PEAK_DECL(i) auto a##i = SET1(static_cast<float>(i));
#define OPF_PEAK_SUM(i) s = ADD(s, a##i);
#define OPF_PEAK_LOOP()                          \
  OPF_PEAK_EACH(OPF_PEAK_DECL)                   \
  for (int64_t i = 0; i < iters; ++i) {          \
    OPF_PEAK_EACH(OPF_PEAK_STEP)                 \
    __asm__ volatile("" : "+v"(b));              \
  }                                              \
  auto s = zero;                                 \
  OPF_PEAK_EACH(OPF_PEAK_SUM)

constexpr int kSteps = 24;

float loop_bf16(int64_t iters) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512i one = _mm512_set1_epi16(0x3f80);
  __m512i b = _mm512_set1_epi16(0x0001);  // tiny: the sums stay finite
#define ADD _mm512_add_ps
#define SET1 _mm512_set1_ps
#define OPF_PEAK_STEP(i) a##i = _mm512_dpbf16_ps(a##i, (__m512bh)one, (__m512bh)b);
  OPF_PEAK_LOOP()
#undef OPF_PEAK_STEP
  return _mm512_reduce_add_ps(s);
}

float loop_fma512(int64_t iters) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  __m512 b = _mm512_set1_ps(1e-20f);
#define OPF_PEAK_STEP(i) a##i = _mm512_fmadd_ps(one, b, a##i);
  OPF_PEAK_LOOP()
#undef OPF_PEAK_STEP
#undef ADD
#undef SET1
  return _mm512_reduce_add_ps(s);
}

float loop_fma256(int64_t iters) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  __m256 b = _mm256_set1_ps(1e-20f);
#define ADD _mm256_add_ps
#define SET1 _mm256_set1_ps
#define OPF_PEAK_STEP(i) a##i = _mm256_fmadd_ps(one, b, a##i);
  OPF_PEAK_LOOP()
#undef OPF_PEAK_STEP
#undef ADD
#undef SET1
  return s[0] + s[7];
}

}  // namespace

double peak_gflops(PeakKind kind, int reps) {
  const MatmulIsa isa = matmul_isa();  // a weaker one when a bench forces it
  float (*loop)(int64_t) = nullptr;
  double flops_per_instruction = 0;
  if (kind == PeakKind::Bf16Dot && isa >= MatmulIsa::Avx512Bf16) loop = loop_bf16, flops_per_instruction = 64;
  else if (kind == PeakKind::F32Fma && isa >= MatmulIsa::Avx512) loop = loop_fma512, flops_per_instruction = 32;
  else if (kind == PeakKind::F32Fma && isa >= MatmulIsa::Avx2) loop = loop_fma256, flops_per_instruction = 16;
  if (loop == nullptr) return 0;
  constexpr int64_t kIters = int64_t{1} << 24;  // ~0.1 s at one instruction a cycle
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < reps; ++r) {
    int threads = 1;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel
    {
#pragma omp single nowait
      threads = omp_get_num_threads();
      const float v = loop(kIters / kSteps);
#pragma omp critical
      sink = sink + v;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, threads * flops_per_instruction * static_cast<double>(kIters) / s * 1e-9);
  }
  return best;
}

}  // namespace optipfair::bench

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
