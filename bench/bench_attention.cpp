// Causal attention over a long input, as the forward pass runs it for one layer: every block of 16
// query positions and every KV head is one task (its GQA group's query heads over the positions
// before it), all tasks of the layer in one parallel loop.
//
//   bench_attention [--positions 2048] [--queries N] [--head-dim 64] [--heads 32] [--kv-heads 8]
//                   [--layers 16] [--threads 2] [--reps 3]
//
// The queries are the last --queries positions (default all of them: a prompt or a perplexity
// window; 1: one generation step with the others cached). Prints the seconds per layer (best of
// --reps), the arithmetic rate (4 * head_dim flops per query and key it sees: the score and the
// weighted value), and what attention alone would allow a model of --layers layers in tokens/s.
// Defaults: Llama-3.2-1B's attention over a 2048-token window.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <CLI/CLI.hpp>

#include "kernels/attention.h"

#include "bench_support.h"

using namespace optipfair;
using bench::seconds_since;

int main(int argc, char** argv) {
  CLI::App app{"optipfair attention benchmark"};
  int64_t n = 2048, queries = 0, hd = 64, heads = 32, kv_heads = 8, layers = 16;
  int threads = 2, reps = 3;
  app.add_option("--positions", n, "input length")->check(CLI::Range(1, 1 << 20));
  app.add_option("--queries", queries, "query positions, the last ones (default: all)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--head-dim", hd, "head size")->check(CLI::Range(1, 1024));
  app.add_option("--heads", heads, "query heads")->check(CLI::Range(1, 1024));
  app.add_option("--kv-heads", kv_heads, "key/value heads (divides --heads)")->check(CLI::Range(1, 1024));
  app.add_option("--layers", layers, "layers of the model the tokens/s figure is for")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "OpenMP threads")->check(CLI::PositiveNumber);
  app.add_option("--reps", reps, "timed repetitions (the best is reported)")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (heads % kv_heads != 0) {
    std::fprintf(stderr, "--heads must be a multiple of --kv-heads\n");
    return 2;
  }
  omp_set_num_threads(threads);
  if (queries == 0 || queries > n) queries = n;
  const int64_t q0 = n - queries;

  const int64_t q_dim = heads * hd, kv_dim = kv_heads * hd, group = heads / kv_heads;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(n * q_dim)), k(static_cast<size_t>(n * kv_dim)),
      v(static_cast<size_t>(n * kv_dim)), out(static_cast<size_t>(n * q_dim));
  for (auto* buf : {&q, &k, &v})
    for (float& x : *buf) x = normal(rng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

  constexpr int64_t kBlock = 16;  // the forward pass's query positions per task
  const int64_t blocks = (queries + kBlock - 1) / kBlock;
  auto run_layer = [&] {
#pragma omp parallel
    {
      AttentionScratch scratch;
      std::vector<AttentionRow> rows;
#pragma omp for schedule(dynamic, 1)
      for (int64_t task = 0; task < blocks * kv_heads; ++task) {
        const int64_t blk = task / kv_heads, g = task % kv_heads;
        rows.clear();
        for (int64_t p = q0 + blk * kBlock; p < std::min(n, q0 + (blk + 1) * kBlock); ++p)
          for (int64_t h = g * group; h < (g + 1) * group; ++h)
            rows.push_back({&q[static_cast<size_t>(p * q_dim + h * hd)], &out[static_cast<size_t>(p * q_dim + h * hd)],
                            0, p + 1});
        attention_rows(rows, k.data() + g * hd, v.data() + g * hd, kv_dim, hd, scale, scratch);
      }
    }
  };
  run_layer();  // warm-up: first touches, scratch growth
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    run_layer();
    best = std::min(best, seconds_since(t0));
  }
  // Query position p sees p + 1 keys.
  const auto tri = [](int64_t m) { return static_cast<double>(m) * static_cast<double>(m + 1) / 2.0; };
  const double seen = tri(n) - tri(q0);
  const double pairs = static_cast<double>(heads) * seen;
  const double gflops = 4.0 * static_cast<double>(hd) * pairs / best / 1e9;
  double checksum = 0;
  for (float x : out) checksum += x;
  std::printf("attention positions=%lld queries=%lld head_dim=%lld heads=%lld kv_heads=%lld threads=%d\n",
              static_cast<long long>(n), static_cast<long long>(queries), static_cast<long long>(hd),
              static_cast<long long>(heads),
              static_cast<long long>(kv_heads), threads);
  std::printf("  %.3f ms per layer   %.1f GFLOP/s   attention alone allows %.0f tokens/s over %lld layers"
              "   (checksum %.6g)\n",
              best * 1e3, gflops, static_cast<double>(queries) / (best * static_cast<double>(layers)),
              static_cast<long long>(layers), checksum);
  return 0;
}
