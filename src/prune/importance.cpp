#include "prune/importance.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "kernels/matmul.h"
#include "util/error.h"

namespace optipfair {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// max + |min| in float32, the order torch evaluates it in.
float peak_to_peak(const float* row, int64_t n) {
  float hi = row[0], lo = row[0];
  for (int64_t j = 1; j < n; ++j) {
    hi = std::max(hi, row[j]);
    lo = std::min(lo, row[j]);
  }
  return hi + std::fabs(lo);
}

// Reductions over many elements run in double and are rounded once, so the result is the exact
// value to float precision whatever order torch summed in.
float unbiased_variance(const float* row, int64_t n) {
  if (n < 2) return std::nanf("");
  double mean = 0;
  for (int64_t j = 0; j < n; ++j) mean += row[j];
  mean /= static_cast<double>(n);
  double ss = 0;
  for (int64_t j = 0; j < n; ++j) ss += (row[j] - mean) * (row[j] - mean);
  return static_cast<float>(ss / static_cast<double>(n - 1));
}

float l1_norm(const float* row, int64_t n) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::fabs(static_cast<double>(row[j]));
  return static_cast<float>(s);
}

float l2_norm(const float* row, int64_t n) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += static_cast<double>(row[j]) * row[j];
  return static_cast<float>(std::sqrt(s));
}

float row_score(const float* row, int64_t n, ImportanceMethod method) {
  switch (method) {
    case ImportanceMethod::MAW: return peak_to_peak(row, n);
    case ImportanceMethod::VOW: return unbiased_variance(row, n);
    case ImportanceMethod::PON: return l1_norm(row, n);
    case ImportanceMethod::L2: return l2_norm(row, n);
  }
  return 0;
}

}  // namespace

void require_glu(const LayerWeights& layer) {
  if (!layer.w_gate.present() || !layer.w_up.present() || !layer.w_down.present())
    throw Error("this model's MLP is not a gated (GLU) MLP with gate, up and down projections, so it cannot be width-pruned");
}

ImportanceMethod importance_method_from_name(std::string_view name) {
  const std::string u = upper(name);
  if (u == "MAW" || u == "PPM") return ImportanceMethod::MAW;
  if (u == "VOW") return ImportanceMethod::VOW;
  if (u == "PON") return ImportanceMethod::PON;
  if (u == "L2") return ImportanceMethod::L2;
  throw Error("unknown neuron selection method '" + std::string(name) + "'; choose MAW (PPM), VOW, PON or L2");
}

const char* importance_method_name(ImportanceMethod method) {
  switch (method) {
    case ImportanceMethod::MAW: return "MAW";
    case ImportanceMethod::VOW: return "VOW";
    case ImportanceMethod::PON: return "PON";
    case ImportanceMethod::L2: return "L2";
  }
  return "?";
}

std::vector<float> neuron_importance(const LayerWeights& layer, ImportanceMethod method) {
  require_glu(layer);
  const int64_t I = layer.w_gate.rows(), H = layer.w_gate.cols();
  const WeightMatrix gate = layer.w_gate.matrix(), up = layer.w_up.matrix();
  std::vector<float> scores(static_cast<size_t>(I));
#pragma omp parallel
  {
    std::vector<float> g(static_cast<size_t>(H)), u(static_cast<size_t>(H));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < I; ++i) {
      dequantize_row(g.data(), gate, i);
      dequantize_row(u.data(), up, i);
      const float a = row_score(g.data(), H, method), b = row_score(u.data(), H, method);
      scores[static_cast<size_t>(i)] = method == ImportanceMethod::PON ? a * b : a + b;
    }
  }
  return scores;
}

std::vector<float> neuron_importance_calibrated(const LayerWeights& layer, std::span<const float> act_norm) {
  require_glu(layer);
  const int64_t I = layer.w_gate.rows(), H = layer.w_gate.cols();
  if (static_cast<int64_t>(act_norm.size()) != I)
    throw Error("calibration statistics have " + std::to_string(act_norm.size()) + " neurons but the layer has " +
                std::to_string(I));
  std::vector<float> gate_s(static_cast<size_t>(I)), up_s(static_cast<size_t>(I));
  const WeightMatrix gate = layer.w_gate.matrix(), up = layer.w_up.matrix(), down = layer.w_down.matrix();
#pragma omp parallel
  {
    std::vector<float> g(static_cast<size_t>(H)), u(static_cast<size_t>(H));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < I; ++i) {
      dequantize_row(g.data(), gate, i);
      dequantize_row(u.data(), up, i);
      gate_s[static_cast<size_t>(i)] = peak_to_peak(g.data(), H);
      up_s[static_cast<size_t>(i)] = peak_to_peak(u.data(), H);
    }
  }
  // down_proj is [H x I]: neuron i is a column, so walk rows once and keep running max/min.
  std::vector<float> hi(static_cast<size_t>(I), -INFINITY), lo(static_cast<size_t>(I), INFINITY);
  std::vector<float> d(static_cast<size_t>(I));
  for (int64_t r = 0; r < H; ++r) {
    dequantize_row(d.data(), down, r);
    for (int64_t i = 0; i < I; ++i) {
      hi[static_cast<size_t>(i)] = std::max(hi[static_cast<size_t>(i)], d[static_cast<size_t>(i)]);
      lo[static_cast<size_t>(i)] = std::min(lo[static_cast<size_t>(i)], d[static_cast<size_t>(i)]);
    }
  }
  std::vector<float> down_s(static_cast<size_t>(I));
  for (int64_t i = 0; i < I; ++i) down_s[static_cast<size_t>(i)] = hi[static_cast<size_t>(i)] + std::fabs(lo[static_cast<size_t>(i)]);
  const float gmax = *std::max_element(gate_s.begin(), gate_s.end()) + 1e-8f;
  const float umax = *std::max_element(up_s.begin(), up_s.end()) + 1e-8f;
  const float dmax = *std::max_element(down_s.begin(), down_s.end()) + 1e-8f;
  std::vector<float> scores(static_cast<size_t>(I));
  for (size_t i = 0; i < scores.size(); ++i)
    scores[i] = (gate_s[i] / gmax + up_s[i] / umax + down_s[i] / dmax) * act_norm[i];
  return scores;
}

}  // namespace optipfair
