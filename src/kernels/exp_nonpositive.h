// The vectorisable exponential that the softmax, the log-sum-exp and the attention kernel share.
#pragma once
#include <bit>
#include <cstdint>

namespace optipfair {

// e^x for x <= 0, vectorisable: x = n ln2 + r with |r| <= ln2 / 2, e^r by Cephes' degree-6
// polynomial (within 2 ulp of std::exp on this range), 2^n put in the exponent bits. Results
// below FLT_MIN (x < -87.33) are 0: against a softmax's largest term of 1 they are nothing.
inline float exp_nonpositive(float x) {
  constexpr float kMin = -87.3365447f;
  const bool underflow = !(x >= kMin);  // also -inf
  x = underflow ? kMin : x;
  // n = x / ln2 rounded to nearest by the 1.5 * 2^23 trick: std::floor would not vectorise
  // (GCC keeps it scalar under the default -ftrapping-math).
  constexpr float kRound = 12582912.0f;
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  return underflow ? 0.0f : p * scale;
}

// tanh(x) from e = e^(-2|x|) <= 1 as (1 - e) / (1 + e), the sign restored: vectorisable, never
// overflows. Near 0 the difference 1 - e costs relative accuracy (about 1e-7 absolute), which the
// GELU (x times it) and soft-capping (cap times it) keep absolute.
inline float tanh_via_exp(float x) {
  const float e = exp_nonpositive(-2.0f * (x < 0.0f ? -x : x));
  const float t = (1.0f - e) / (1.0f + e);
  return x < 0.0f ? -t : t;
}

}  // namespace optipfair
