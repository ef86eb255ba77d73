#include "prune/calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/capture.h"
#include "model/forward.h"
#include "model/glu.h"
#include "util/error.h"
#include "util/progress.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_documents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read the calibration file " + file.string());
  std::vector<std::string> docs;
  if (file.extension() == ".jsonl") {
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("text") && j["text"].is_string()) docs.push_back(j["text"].get<std::string>());
    }
    return docs;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::string marker = "<|endoftext|>";
  size_t start = 0;
  while (true) {
    const size_t end = text.find(marker, start);
    std::string doc = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const size_t a = doc.find_first_not_of(" \t\r\n"), b = doc.find_last_not_of(" \t\r\n");
    if (a != std::string::npos) docs.push_back(doc.substr(a, b - a + 1));
    if (end == std::string::npos) break;
    start = end + marker.size();
  }
  return docs;
}

}  // namespace

std::vector<std::vector<int32_t>> calibration_sequences(const Tokenizer& tokenizer, const fs::path& file,
                                                        int64_t max_tokens, int64_t seq_len) {
  if (max_tokens <= 0) throw Error("the number of calibration tokens must be positive");
  if (seq_len < 2) throw Error("calibration sequences must hold at least 2 tokens");
  std::vector<std::vector<int32_t>> out;
  int64_t total = 0;
  for (const std::string& doc : read_documents(file)) {
    if (total >= max_tokens) break;
    // Only as much text as can matter: a few bytes per token is more than any tokenizer needs.
    const std::string_view text(doc.data(), std::min<size_t>(doc.size(), static_cast<size_t>(max_tokens - total) * 16 + 64));
    const std::vector<int32_t> ids = tokenizer.encode(text);
    for (size_t at = 0; at < ids.size() && total < max_tokens;) {
      const int64_t n = std::min<int64_t>({seq_len, static_cast<int64_t>(ids.size() - at), max_tokens - total});
      if (n < 2 && !out.empty()) break;
      out.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(at), ids.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += static_cast<size_t>(n);
      total += n;
    }
  }
  if (out.empty()) throw Error("the calibration file " + file.string() + " holds no text to calibrate with");
  return out;
}

std::vector<std::vector<float>> down_input_norms(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                                 bool show_progress) {
  const size_t L = model.layers.size();
  std::vector<int> layers(L);
  std::iota(layers.begin(), layers.end(), 0);
  std::vector<std::vector<float>> acc(L);
  for (size_t l = 0; l < L; ++l) acc[l].assign(static_cast<size_t>(model.layers[l].intermediate_size()), 0.0f);
  Progress bar("calibration", static_cast<int64_t>(sequences.size()), show_progress);
  for (const auto& seq : sequences) {
    ActivationCapture cap(layers, {Component::GateProj, Component::UpProj});
    forward_tokens(model, seq, &cap);
    for (size_t l = 0; l < L; ++l) {
      const Activation& g = cap.get(0, static_cast<int>(l), Component::GateProj);
      const Activation& u = cap.get(0, static_cast<int>(l), Component::UpProj);
      std::vector<float> x = g.data;
      glu_activate(model.config.hidden_act, x.data(), u.data.data(), static_cast<int64_t>(x.size()));
      std::vector<double> ss(static_cast<size_t>(g.cols), 0.0);
      for (int64_t t = 0; t < g.rows; ++t)
        for (int64_t i = 0; i < g.cols; ++i) {
          const double v = x[static_cast<size_t>(t * g.cols + i)];
          ss[static_cast<size_t>(i)] += v * v;
        }
      for (size_t i = 0; i < ss.size(); ++i) acc[l][i] += static_cast<float>(std::sqrt(ss[i]));
    }
    bar.advance();
  }
  return acc;
}

std::vector<double> layer_importance(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                     bool show_progress) {
  const size_t L = model.layers.size();
  const int64_t H = model.config.hidden_size;
  std::vector<int> layers(L);
  std::iota(layers.begin(), layers.end(), 0);
  std::vector<double> sum(L, 0.0);
  int64_t tokens = 0;
  Progress bar("layer importance", static_cast<int64_t>(sequences.size()), show_progress);
  for (const auto& seq : sequences) {
    // The residual stream before and after each layer, as the forward pass holds it (whatever the
    // family adds: Gemma's embedding scale and post-norms included).
    ActivationCapture cap(layers, {Component::LayerInput, Component::LayerOutput});
    forward_tokens(model, seq, &cap);
    const int64_t T = static_cast<int64_t>(seq.size());
    for (size_t l = 0; l < L; ++l) {
      const Activation& a = cap.get(0, static_cast<int>(l), Component::LayerInput);
      const Activation& b = cap.get(0, static_cast<int>(l), Component::LayerOutput);
      for (int64_t t = 0; t < T; ++t) {
        const float* in = a.row(t);
        const float* x = b.row(t);
        double dot = 0, n_in = 0, n_out = 0;
        for (int64_t j = 0; j < H; ++j) {
          dot += static_cast<double>(in[j]) * x[j];
          n_in += static_cast<double>(in[j]) * in[j];
          n_out += static_cast<double>(x[j]) * x[j];
        }
        const double denom = std::sqrt(n_in) * std::sqrt(n_out);
        sum[l] += 1.0 - (denom > 0 ? dot / denom : 1.0);
      }
    }
    tokens += T;
    bar.advance();
  }
  for (double& v : sum) v /= static_cast<double>(std::max<int64_t>(tokens, 1));
  return sum;
}

}  // namespace optipfair
