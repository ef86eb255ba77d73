// The forward pass rotates with a per-position table of cos/sin shared by every head and layer;
// it must give exactly what the plain per-head rotation gives.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/config.h"
#include "model/rope.h"

namespace optipfair {
namespace {

TEST(Rope, TableRotationEqualsPlainRotationForEveryHead) {
  ModelConfig c;
  c.head_dim = 64;
  c.rope_theta = 500000.0;
  c.rope_scaling.type = RopeScalingType::Llama3;
  c.rope_scaling.factor = 32.0;
  c.rope_scaling.low_freq_factor = 1.0;
  c.rope_scaling.high_freq_factor = 4.0;
  c.rope_scaling.original_max_position_embeddings = 8192;
  const std::vector<float> inv = rope_inv_freq(c);
  const int64_t heads = 5, d = c.head_dim;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (int64_t pos : {0, 1, 17, 4095, 131071}) {
    std::vector<float> x(static_cast<size_t>(heads * d));
    for (float& v : x) v = dist(rng);
    std::vector<float> want = x, cos(static_cast<size_t>(d / 2)), sin(static_cast<size_t>(d / 2));
    for (int64_t h = 0; h < heads; ++h) rope_apply(&want[static_cast<size_t>(h * d)], pos, inv);
    rope_angles(pos, inv, cos.data(), sin.data());
    rope_rotate(x.data(), heads, d, d, cos.data(), sin.data());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], want[i]) << "pos " << pos << " element " << i;
  }
}

}  // namespace
}  // namespace optipfair
