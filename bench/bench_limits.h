// What a forward-pass figure is measured against: the machine's read rate over the very weights a
// generated token streams (its memory bound), and llama.cpp's `llama-bench` on the same GGUF, run
// in the same invocation so that both see the same machine load.
#pragma once
#include <fcntl.h>
#include <omp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "util/error.h"

extern char** environ;

namespace optipfair::bench {

// The weight matrices one generated token reads in full: every layer's projections and the LM
// head (the embedding table contributes one row).
inline std::vector<WeightMatrix> token_matrices(const Model& m) {
  std::vector<WeightMatrix> out;
  for (const LayerWeights& l : m.layers)
    for (const Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) out.push_back(t->matrix());
  out.push_back(m.lm_head.matrix());
  return out;
}

// What a generated token reads of w: its panels when it was packed (kernels/matmul.h), else its rows.
inline const uint8_t* matrix_start(const WeightMatrix& w) {
  return w.panels ? reinterpret_cast<const uint8_t*>(w.panels) : static_cast<const uint8_t*>(w.data);
}
inline double matrix_bytes(const WeightMatrix& w) {
  if (w.panels && block_panels_take(w.dtype)) return static_cast<double>(block_panels_size(w.dtype, w.rows, w.cols));
  if (w.panels) return static_cast<double>(bf16_panels_size(w.rows, w.cols)) * sizeof(uint16_t);
  return static_cast<double>(w.rows) * static_cast<double>(w.row_bytes);
}

// 64 bytes a step, as wide as the CPU allows: a plain read of each matrix, split over the threads
// as the matrix product splits its rows (contiguous halves), so it is the rate the product could
// reach if arithmetic were free.
using Line = uint64_t __attribute__((vector_size(64)));
__attribute__((target_clones("avx512f", "avx2", "default"))) inline uint64_t read_lines(const uint8_t* p, size_t lines) {
  Line acc{};
  for (size_t i = 0; i < lines; ++i) {
    Line v;
    std::memcpy(&v, p + 64 * i, 64);
    acc ^= v;
  }
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r ^= acc[i];
  return r;
}

// Seconds to read every matrix once (best of `reps`).
inline double read_seconds(const std::vector<WeightMatrix>& mats, int reps) {
  double best = 1e30;
  volatile uint64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t acc = 0;
    for (const WeightMatrix& w : mats) {
      const uint8_t* base = matrix_start(w);
      const auto lines = static_cast<int64_t>(matrix_bytes(w) / 64);
      constexpr int64_t kPiece = 64;  // 4 KiB a work item
#pragma omp parallel for schedule(static) reduction(^ : acc)
      for (int64_t i = 0; i < lines; i += kPiece)
        acc ^= read_lines(base + 64 * i, static_cast<size_t>(std::min(kPiece, lines - i)));
    }
    sink = sink ^ acc;
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct LlamaBenchRates {
  double prompt = 0, generate = 0;  // tokens per second, 0 when not measured
};

// Runs `llama-bench -m model -t threads -p prompt -n gen -r 1 -o json` (no shell) and reads its
// average rates.
inline LlamaBenchRates run_llama_bench(const std::string& exe, const std::string& model, int threads, int prompt,
                                       int gen) {
  std::vector<std::string> args = {exe, "-m", model, "-t", std::to_string(threads), "-p", std::to_string(prompt),
                                   "-n", std::to_string(gen), "-r", "1", "-o", "json"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) throw Error("llama-bench: cannot create a pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("llama-bench (" + exe + ") failed on " + model);
  LlamaBenchRates r;
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array()) throw Error("llama-bench printed no JSON array");
  for (const auto& e : j) {
    const double ts = e.value("avg_ts", 0.0);
    if (e.value("n_gen", 0) > 0) r.generate = ts;
    else if (e.value("n_prompt", 0) > 0) r.prompt = ts;
  }
  return r;
}

}  // namespace optipfair::bench
