// What every benchmark needs: a wall clock, the peak resident memory, and a synthetic model of a
// real shape on disk (written once, then reused), so that timings include the mapped-file path.
#pragma once
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "io/model_formats.h"
#include "kernels/matmul.h"
#include "model/synthetic.h"
#include "util/error.h"

namespace optipfair::bench {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --isa NAME: forces a weaker instruction set for the matrix products ("" keeps the best).
inline void set_isa_by_name(const std::string& name) {
  if (name.empty()) return;
  for (MatmulIsa i : {MatmulIsa::Scalar, MatmulIsa::Avx2, MatmulIsa::Avx512, MatmulIsa::Avx512Bf16})
    if (name == matmul_isa_name(i)) {
      matmul_set_isa(i);
      return;
    }
  throw Error("unknown instruction set '" + name + "' (scalar, avx2, avx512, avx512bf16)");
}

inline double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// <cache_dir>/<preset>-<dtype>[-L<layers>]: a Hugging Face folder with random weights, written the
// first time in a child process so that building the model in memory never counts in the
// benchmark's own peak RSS.
inline std::filesystem::path synthetic_model_dir(const std::filesystem::path& cache_dir, const std::string& preset,
                                                 const std::string& dtype, int64_t layers = 0) {
  const auto dir = cache_dir / (preset + "-" + dtype + (layers ? "-L" + std::to_string(layers) : ""));
  if (std::filesystem::exists(dir / "config.json")) return dir;
  std::fprintf(stderr, "writing synthetic %s (%s) to %s once...\n", preset.c_str(), dtype.c_str(), dir.c_str());
  std::filesystem::create_directories(cache_dir);
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      save_hf_model(make_synthetic_model(preset, dtype_from_name(dtype), 1, layers), dir);
      _exit(0);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      _exit(1);
    }
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("could not write the synthetic model to " + dir.string());
  return dir;
}

}  // namespace optipfair::bench
