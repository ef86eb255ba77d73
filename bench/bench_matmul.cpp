// Matmul throughput: GFLOP/s and weight GB/s of matmul (fast) and matmul_naive.
//
//   bench_matmul                          the standard shape list, BF16, T = 1 and 128
//   bench_matmul --K 576 --N 1536 --T 128 --dtype BF16 --threads 2
//   bench_matmul --model smollm2 --T 128  every projection of SmolLM2-135M (30 layers + head)
//   --exact  widen BF16 weights to float32 instead of bf16 dot products
//   --panels BF16 or block-type weights packed into panels first (model_pack_panels, as the fast commands run)
//   --isa scalar|avx2|avx512|avx512bf16  force a weaker instruction set
#include <omp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench_peak.h"
#include "bench_support.h"
#include "kernels/dtype.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"

using namespace optipfair;

namespace {

struct Shape {
  int64_t K, N;
};

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<uint16_t> panels;  // with --panels (BF16, block types)
  WeightMatrix m;
};

// Packs BF16 or block-type weights into the fast path's panels (kernels/matmul.h), as model_pack_panels does.
void attach_panels(Weights& w) {
  if (w.m.dtype == DType::BF16) {
    w.panels.resize(bf16_panels_size(w.m.rows, w.m.cols));
    bf16_panels_pack(w.panels.data(), w.m);
  } else if (block_panels_take(w.m.dtype) && w.m.cols % 64 == 0) {
    w.panels.resize((block_panels_size(w.m.dtype, w.m.rows, w.m.cols) + 1) / 2);
    block_panels_pack(reinterpret_cast<uint8_t*>(w.panels.data()), w.m);
  } else {
    return;
  }
  w.m.panels = w.panels.data();
}

Weights make_weights(int64_t K, int64_t N, DType dt, std::mt19937& rng) {
  Weights w;
  const size_t row = dtype_bytes(dt, K);
  w.bytes.resize(row * N);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> values(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    uint8_t* r = w.bytes.data() + row * n;
    for (int64_t k = 0; k < K; ++k) {
      float v = normal(rng);
      switch (dt) {
        case DType::F32: std::memcpy(r + 4 * k, &v, 4); break;
        case DType::F16: { uint16_t h = f32_to_f16(v); std::memcpy(r + 2 * k, &h, 2); break; }
        case DType::BF16: { uint16_t h = f32_to_bf16(v); std::memcpy(r + 2 * k, &h, 2); break; }
        default: values[static_cast<size_t>(k)] = v; break;  // block types: quantised below
      }
    }
    if (dtype_is_quantized(dt) && dt != DType::Q8_0) quantize_blocks(dt, values.data(), r, K);
    if (dt == DType::Q8_0) {
      for (int64_t b = 0; b < K / kQ8BlockSize; ++b) {
        uint8_t* blk = r + b * sizeof(BlockQ8_0);
        uint16_t s = f32_to_f16(0.001f);
        std::memcpy(blk, &s, 2);
        for (int i = 0; i < kQ8BlockSize; ++i) blk[2 + i] = static_cast<uint8_t>(byte(rng));
      }
    }
  }
  w.m = WeightMatrix{w.bytes.data(), dt, N, K, row};
  return w;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds used by the whole process: on a shared, oversubscribed machine
// wall time mostly measures the other tenants, while CPU time / threads is what
// the kernel costs when it has the cores (OpenMP spin-waits count as busy, so
// this under-states multi-threaded throughput a little, never over-states it).
double cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall = 0;  // seconds per call
  double cpu = 0;   // CPU seconds per call, all threads together
};

// Per-call cost of fn, repeated until min_time has passed (after one warm-up call).
template <class F>
Timing time_call(F&& fn, double min_time) {
  fn();
  int reps = 0;
  double t0 = now_s(), t1 = t0, c0 = cpu_s();
  while (t1 - t0 < min_time || reps < 2) {
    fn();
    ++reps;
    t1 = now_s();
  }
  return Timing{(t1 - t0) / reps, (cpu_s() - c0) / reps};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"matmul throughput benchmark"};
  int64_t K = 0, N = 0;
  std::vector<int64_t> Ts = {1, 128};
  std::string dtype_s = "BF16", model, isa_s;
  int threads = 2;
  bool exact = false, naive = false, panels = false;
  double min_time = 0.5;
  app.add_option("--K", K, "input features (with --N; default: the standard shape list)");
  app.add_option("--N", N, "output features");
  app.add_option("--T", Ts, "rows of x (several allowed)");
  app.add_option("--dtype", dtype_s, "F32, F16, BF16 or a GGUF block type (Q8_0, Q4_0, Q4_K, ...)");
  app.add_option("--threads", threads, "OpenMP threads");
  app.add_option("--model", model, "smollm2: all projections of SmolLM2-135M");
  app.add_option("--isa", isa_s, "scalar, avx2, avx512 or avx512bf16")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512", "avx512bf16"}));
  app.add_option("--min-time", min_time, "seconds per measurement");
  app.add_flag("--exact", exact, "no bf16 activations for BF16 weights");
  app.add_flag("--naive", naive, "also time matmul_naive on large shapes");
  app.add_flag("--panels", panels, "BF16 or block-type weights packed into panels, as the eval and bench commands use them");
  CLI11_PARSE(app, argc, argv);

  omp_set_num_threads(threads);
  const Precision precision = exact ? Precision::Exact : Precision::Fast;
  bench::set_isa_by_name(isa_s);
  const DType dt = dtype_from_name(dtype_s);
  std::printf("isa %s (best %s), dtype %s, threads %d, exact %d, panels %d\n", matmul_isa_name(matmul_isa()),
              matmul_isa_name(matmul_isa_best()), dtype_name(dt), threads, exact ? 1 : 0, panels ? 1 : 0);
  std::mt19937 rng(42);
  // What the products are measured against: bf16 dot products for BF16 weights in fast mode with
  // AVX512_BF16, float32 FMAs for everything else (weights are widened to float32 there).
  const bool bf16_dot = dt == DType::BF16 && !exact && matmul_isa() == MatmulIsa::Avx512Bf16;
  const double peak = bench::peak_gflops(bf16_dot ? bench::PeakKind::Bf16Dot : bench::PeakKind::F32Fma, 3);
  std::printf("peak %.1f GFLOP/s (%s on %d threads, measured now)\n", peak,
              bf16_dot ? "bf16 dot products" : "float32 FMA", threads);
  auto of_peak = [&](double gflops) { return peak > 0 ? 100 * gflops / peak : 0.0; };

  if (model == "smollm2") {
    // hidden 576, 9 query / 3 KV heads of 64, intermediate 1536, 30 layers, vocab 49152.
    const std::vector<Shape> layer = {{576, 576}, {576, 192}, {576, 192}, {576, 576},
                                      {576, 1536}, {576, 1536}, {1536, 576}};
    std::vector<Weights> all;
    for (int l = 0; l < 30; ++l)
      for (const Shape& s : layer) all.push_back(make_weights(s.K, s.N, dt, rng));
    all.push_back(make_weights(576, 49152, dt, rng));
    if (panels)
      for (Weights& w : all) attach_panels(w);
    for (int64_t T : Ts) {
      std::vector<float> x(T * 1536, 0.01f), y(T * 49152);
      double flops = 0, bytes = 0;
      for (const Weights& w : all) {
        flops += 2.0 * T * w.m.rows * w.m.cols;
        bytes += static_cast<double>(w.bytes.size());
      }
      Timing tm = time_call([&] { for (const Weights& w : all) matmul(y.data(), x.data(), T, w.m, precision); }, min_time);
      const double busy = tm.cpu / threads;
      std::printf("smollm2 T=%-4lld wall %8.2f ms %8.1f GFLOP/s (%3.0f %% of peak) %7.1f GB/s | cpu/threads %8.2f ms %8.1f GFLOP/s %7.1f GB/s\n",
                  static_cast<long long>(T), tm.wall * 1e3, flops / tm.wall * 1e-9, of_peak(flops / tm.wall * 1e-9),
                  bytes / tm.wall * 1e-9, busy * 1e3, flops / busy * 1e-9, bytes / busy * 1e-9);
    }
    return 0;
  }

  std::vector<Shape> shapes = {{576, 1536}, {1536, 576}, {2048, 2048}, {2048, 512}, {2048, 8192}, {8192, 2048}, {576, 49152}};
  if (K > 0 && N > 0) shapes = {{K, N}};
  std::printf("%6s %6s %5s | %9s %9s %6s %8s | %9s %9s %8s | %9s %9s\n", "K", "N", "T", "wall ms",
              "GFLOP/s", "%peak", "GB/s", "cpu/thr", "GFLOP/s", "GB/s", "naive ms", "GFLOP/s");
  for (const Shape& s : shapes) {
    Weights w = make_weights(s.K, s.N, dt, rng);
    if (panels) attach_panels(w);
    for (int64_t T : Ts) {
      std::vector<float> x(T * s.K), y(T * s.N);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (float& v : x) v = normal(rng);
      const double flops = 2.0 * T * s.N * s.K;
      Timing tm = time_call([&] { matmul(y.data(), x.data(), T, w.m, precision); }, min_time);
      const double busy = tm.cpu / threads, wb = static_cast<double>(w.bytes.size());
      std::printf("%6lld %6lld %5lld | %9.3f %9.1f %6.0f %8.1f | %9.3f %9.1f %8.1f |", static_cast<long long>(s.K),
                  static_cast<long long>(s.N), static_cast<long long>(T), tm.wall * 1e3,
                  flops / tm.wall * 1e-9, of_peak(flops / tm.wall * 1e-9), wb / tm.wall * 1e-9, busy * 1e3, flops / busy * 1e-9,
                  wb / busy * 1e-9);
      if (naive || flops < 2e8) {
        double t0 = now_s();
        matmul_naive(y.data(), x.data(), T, w.m);
        double ns = now_s() - t0;
        std::printf(" %9.3f %9.2f\n", ns * 1e3, flops / ns * 1e-9);
      } else {
        std::printf(" %9s %9s\n", "-", "-");
      }
    }
  }
  return 0;
}
