#include "kernels/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/quants.h"
#include "util/error.h"

namespace optipfair {

namespace {

// The value with the largest magnitude, sign kept (ggml's `max` in the symmetric quantisers).
float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

void q4_0(const float* x, BlockQ4_0& b) {
  const float d = signed_absmax(x, 32) / -8, id = d != 0 ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  for (int j = 0; j < 16; ++j) {
    const int x0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
    const int x1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
    b.qs[j] = static_cast<uint8_t>(x0 | (x1 << 4));
  }
}

void min_max(const float* x, int n, float& mn, float& mx) {
  mn = FLT_MAX;
  mx = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
  }
}

void q4_1(const float* x, BlockQ4_1& b) {
  float mn, mx;
  min_max(x, 32, mn, mx);
  const float d = (mx - mn) / 15, id = d != 0 ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  b.m = f32_to_f16(mn);
  for (int j = 0; j < 16; ++j) {
    const int x0 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - mn) * id + 0.5f)));
    const int x1 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j + 16] - mn) * id + 0.5f)));
    b.qs[j] = static_cast<uint8_t>(x0 | (x1 << 4));
  }
}

// Four low bits of each pair into qs, the fifth bits into qh (bit j for element j, j + 16 for j + 16).
template <class Block>
void pack5(Block& b, const int* q) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
    qh |= static_cast<uint32_t>((q[j] & 0x10) >> 4) << j;
    qh |= static_cast<uint32_t>((q[j + 16] & 0x10) >> 4) << (j + 16);
  }
  std::memcpy(b.qh, &qh, 4);
}

void q5_0(const float* x, BlockQ5_0& b) {
  const float d = signed_absmax(x, 32) / -16, id = d != 0 ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  int q[32];
  for (int j = 0; j < 32; ++j) q[j] = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
  pack5(b, q);
}

void q5_1(const float* x, BlockQ5_1& b) {
  float mn, mx;
  min_max(x, 32, mn, mx);
  const float d = (mx - mn) / 31, id = d != 0 ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  b.m = f32_to_f16(mn);
  int q[32];
  for (int j = 0; j < 32; ++j) q[j] = static_cast<uint8_t>((x[j] - mn) * id + 0.5f);
  pack5(b, q);
}

void q8_0(const float* x, BlockQ8_0& b) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
  b.scale_f16 = f32_to_f16(d);
  for (int j = 0; j < 32; ++j) b.q[j] = static_cast<int8_t>(std::roundf(x[j] * id));
}

int nearest(float v, int lo, int hi) { return std::clamp(static_cast<int>(std::lrintf(v)), lo, hi); }

// Q4_K / Q5_K: 8 sub-blocks of 32 with a 6-bit scale and a 6-bit minimum each, both relative to
// the super-block's f16 d and dmin; levels 0 .. `top` (15 or 31) per element, in L.
void k_scales(const float* x, int top, uint16_t& d16, uint16_t& dmin16, uint8_t* scales, uint8_t* L) {
  float scale[8], minus[8], max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    float mn, mx;
    min_max(x + 32 * j, 32, mn, mx);
    mn = std::min(mn, 0.0f);
    scale[j] = (mx - mn) / static_cast<float>(top);
    minus[j] = -mn;
    max_scale = std::max(max_scale, scale[j]);
    max_min = std::max(max_min, minus[j]);
  }
  d16 = f32_to_f16(max_scale / 63);
  dmin16 = f32_to_f16(max_min / 63);
  const float d = f16_to_f32(d16), dmin = f16_to_f32(dmin16);
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = static_cast<uint8_t>(d > 0 ? nearest(scale[j] / d, 0, 63) : 0);
    lm[j] = static_cast<uint8_t>(dmin > 0 ? nearest(minus[j] / dmin, 0, 63) : 0);
    const float dl = d * ls[j], ml = dmin * lm[j];
    for (int e = 0; e < 32; ++e)
      L[32 * j + e] = static_cast<uint8_t>(dl > 0 ? nearest((x[32 * j + e] + ml) / dl, 0, top) : 0);
  }
  for (int j = 0; j < 4; ++j) {  // k_scale_min's packing (quants.h)
    scales[j] = ls[j];
    scales[j + 4] = lm[j];
  }
  for (int j = 4; j < 8; ++j) {
    scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
    scales[j - 4] = static_cast<uint8_t>(scales[j - 4] | ((ls[j] >> 4) << 6));
    scales[j] = static_cast<uint8_t>(scales[j] | ((lm[j] >> 4) << 6));
  }
}

void q4_k(const float* x, BlockQ4_K& b) {
  uint8_t L[kQKBlockSize];
  k_scales(x, 15, b.d, b.dmin, b.scales, L);
  for (int j = 0; j < kQKBlockSize; j += 64)
    for (int l = 0; l < 32; ++l) b.qs[j / 2 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
}

void q5_k(const float* x, BlockQ5_K& b) {
  uint8_t L[kQKBlockSize];
  k_scales(x, 31, b.d, b.dmin, b.scales, L);
  std::memset(b.qh, 0, sizeof b.qh);
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < kQKBlockSize; j += 64) {
    for (int l = 0; l < 32; ++l) {
      int l1 = L[j + l], l2 = L[j + l + 32];
      if (l1 > 15) {
        l1 -= 16;
        b.qh[l] = static_cast<uint8_t>(b.qh[l] | u1);
      }
      if (l2 > 15) {
        l2 -= 16;
        b.qh[l] = static_cast<uint8_t>(b.qh[l] | u2);
      }
      b.qs[j / 2 + l] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
    u1 = static_cast<uint8_t>(u1 << 2);
    u2 = static_cast<uint8_t>(u2 << 2);
  }
}

// Q6_K: 16 sub-blocks of 16 with an int8 scale each relative to the f16 d; levels -32 .. 31.
void q6_k(const float* x, BlockQ6_K& b) {
  float scale[16], max_scale = 0;
  for (int j = 0; j < 16; ++j) {
    scale[j] = signed_absmax(x + 16 * j, 16) / -32;
    max_scale = std::max(max_scale, std::fabs(scale[j]));
  }
  b.d = f32_to_f16(max_scale / 127);
  const float d = f16_to_f32(b.d);
  uint8_t L[kQKBlockSize];
  for (int j = 0; j < 16; ++j) {
    b.scales[j] = static_cast<int8_t>(d > 0 ? nearest(scale[j] / d, -128, 127) : 0);
    const float dl = d * b.scales[j];
    for (int e = 0; e < 16; ++e)
      L[16 * j + e] = static_cast<uint8_t>((dl != 0 ? nearest(x[16 * j + e] / dl, -32, 31) : 0) + 32);
  }
  for (int j = 0; j < kQKBlockSize; j += 128) {
    uint8_t* ql = b.ql + j / 2;
    uint8_t* qh = b.qh + j / 4;
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((L[j + l] & 0xF) | ((L[j + l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((L[j + l + 32] & 0xF) | ((L[j + l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                   ((L[j + l + 96] >> 4) << 6));
    }
  }
}

template <class Block, void (*F)(const float*, Block&)>
void blocks(const float* src, uint8_t* dst, int64_t n, int be) {
  for (int64_t i = 0; i < n; i += be, src += be, dst += sizeof(Block)) {
    Block b{};
    F(src, b);
    std::memcpy(dst, &b, sizeof b);
  }
}

}  // namespace

void quantize_blocks(DType t, const float* src, uint8_t* dst, int64_t n) {
  const auto be = static_cast<int>(dtype_block_elements(t));
  if (!dtype_is_quantized(t)) throw Error(std::string("quantize_blocks: ") + dtype_name(t) + " is not a block type");
  if (n % be != 0)
    throw Error("quantize_blocks: " + std::to_string(n) + " values are not whole " + dtype_name(t) + " blocks");
  switch (t) {
    case DType::Q4_0: blocks<BlockQ4_0, q4_0>(src, dst, n, be); break;
    case DType::Q4_1: blocks<BlockQ4_1, q4_1>(src, dst, n, be); break;
    case DType::Q5_0: blocks<BlockQ5_0, q5_0>(src, dst, n, be); break;
    case DType::Q5_1: blocks<BlockQ5_1, q5_1>(src, dst, n, be); break;
    case DType::Q8_0: blocks<BlockQ8_0, q8_0>(src, dst, n, be); break;
    case DType::Q4_K: blocks<BlockQ4_K, q4_k>(src, dst, n, be); break;
    case DType::Q5_K: blocks<BlockQ5_K, q5_k>(src, dst, n, be); break;
    case DType::Q6_K: blocks<BlockQ6_K, q6_k>(src, dst, n, be); break;
    default: break;
  }
}

}  // namespace optipfair
