// A random-weight model whose vocabulary fits a given tokenizer, for task tests that recompute a
// task's figures from the requests it scored (the "tiny" synthetic shape with its embedding
// tables widened), and what those tests share.
#pragma once
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <omp.h>

#include "model/synthetic.h"

namespace optipfair::test {

inline Model synthetic_model_for_vocab(int64_t vocab, uint64_t seed) {
  Model m = make_synthetic_model("tiny", DType::F32, seed);
  const int64_t H = m.config.hidden_size;
  m.config.vocab_size = vocab;
  m.config.raw["vocab_size"] = vocab;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  auto table = [&](const char* name) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = {vocab, H};
    auto* p = static_cast<float*>(m.allocate(static_cast<size_t>(vocab * H) * sizeof(float)));
    for (int64_t i = 0; i < vocab * H; ++i) p[i] = normal(rng);
    t.data = p;
    return t;
  };
  m.tok_embeddings = table("model.embed_tokens.weight");
  m.lm_head = table("lm_head.weight");
  return m;
}

// One OpenMP thread while it lives: task figures do not depend on the thread count, and a test
// process sharing two cores with others runs its small forward passes faster alone.
class SingleThread {
 public:
  SingleThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThread() { omp_set_num_threads(saved_); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;

 private:
  int saved_;
};

inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first n non-blank lines of a JSONL file, parsed.
inline std::vector<nlohmann::json> first_jsonl(const std::filesystem::path& path, size_t n) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; rows.size() < n && std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// The same statistics lm-eval computes, written out here so the tests do not reuse the code
// under test: the mean, and the standard error of the mean (sample sd with n - 1, over sqrt n).
inline double plain_mean(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

inline double plain_mean_stderr(const std::vector<double>& xs) {
  const double mu = plain_mean(xs);
  double ss = 0;
  for (double x : xs) ss += (x - mu) * (x - mu);
  return std::sqrt(ss / static_cast<double>(xs.size() - 1)) / std::sqrt(static_cast<double>(xs.size()));
}

// " " + s, spelled so that GCC 12's -Wrestrict false positive on `"literal" + std::string&&`
// does not fire.
inline std::string space_then(const std::string& s) {
  std::string out = " ";
  out += s;
  return out;
}

}  // namespace optipfair::test
