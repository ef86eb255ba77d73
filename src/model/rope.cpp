#include "model/rope.h"

#include <cmath>
#include <numbers>

namespace optipfair {

std::vector<float> rope_inv_freq(const ModelConfig& c) { return rope_inv_freq(c.rope_dim(), c.rope_theta, c.rope_scaling); }

std::vector<float> rope_inv_freq_sliding(const ModelConfig& c) {
  return c.rope_local_theta > 0 ? rope_inv_freq(c.rope_dim(), c.rope_local_theta, RopeScaling{}) : rope_inv_freq(c);
}

std::vector<float> rope_inv_freq_for(const ModelConfig& c, int64_t positions) {
  const RopeScaling& s = c.rope_scaling;
  if (s.type != RopeScalingType::LongRope || positions <= s.original_max_position_embeddings) return rope_inv_freq(c);
  RopeScaling long_scaling = s;
  long_scaling.short_factor = s.long_factor;
  return rope_inv_freq(c.rope_dim(), c.rope_theta, long_scaling);
}

float rope_attention_factor(const ModelConfig& c) {
  return c.rope_scaling.type == RopeScalingType::LongRope && c.rope_scaling.attention_factor > 0
             ? static_cast<float>(c.rope_scaling.attention_factor)
             : 1.0f;
}

std::vector<float> rope_inv_freq(int64_t d, double theta, const RopeScaling& s) {
  std::vector<float> inv(static_cast<size_t>(d / 2));
  for (int64_t j = 0; j < d / 2; ++j)
    inv[static_cast<size_t>(j)] =
        1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * j) / static_cast<float>(d));

  if (s.type == RopeScalingType::LongRope) {
    // transformers: 1 / (factor_j * theta^(2j/d)), the product in float32.
    for (size_t j = 0; j < inv.size() && j < s.short_factor.size(); ++j)
      inv[j] = 1.0f / (static_cast<float>(s.short_factor[j]) *
                       std::pow(static_cast<float>(theta), static_cast<float>(2 * static_cast<int64_t>(j)) / static_cast<float>(d)));
  } else if (s.type == RopeScalingType::Linear) {
    for (float& f : inv) f = static_cast<float>(f / s.factor);
  } else if (s.type == RopeScalingType::Llama3) {
    // Long wavelengths are slowed by `factor`, short ones kept, the band between blended.
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor;
    const double high_wavelen = old_len / s.high_freq_factor;
    for (float& f : inv) {
      const double wavelen = 2.0 * std::numbers::pi / f;
      if (wavelen > low_wavelen) {
        f = static_cast<float>(f / s.factor);
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = static_cast<float>((1.0 - smooth) * f / s.factor + smooth * f);
      }
    }
  }
  return inv;
}

void rope_apply(float* x, int64_t pos, const std::vector<float>& inv_freq) {
  const auto half = static_cast<int64_t>(inv_freq.size());
  for (int64_t j = 0; j < half; ++j) {
    const float angle = static_cast<float>(pos) * inv_freq[static_cast<size_t>(j)];
    const float c = std::cos(angle), s = std::sin(angle);
    const float a = x[j], b = x[j + half];
    x[j] = a * c - b * s;
    x[j + half] = b * c + a * s;
  }
}

void rope_angles(int64_t pos, const std::vector<float>& inv_freq, float* cos_out, float* sin_out, float scale) {
  for (size_t j = 0; j < inv_freq.size(); ++j) {
    const float angle = static_cast<float>(pos) * inv_freq[j];
    cos_out[j] = std::cos(angle) * scale;
    sin_out[j] = std::sin(angle) * scale;
  }
}

void rope_rotate(float* x, int64_t n_heads, int64_t d, int64_t rotated, const float* cos, const float* sin) {
  const int64_t half = rotated / 2;
  for (int64_t h = 0; h < n_heads; ++h, x += d)
#pragma omp simd
    for (int64_t j = 0; j < half; ++j) {
      const float a = x[j], b = x[j + half];
      x[j] = a * cos[j] - b * sin[j];
      x[j + half] = b * cos[j] + a * sin[j];
    }
}

}  // namespace optipfair
