#include "kernels/quants.h"

#include <cstring>

namespace optipfair {

namespace {

void q4_0(const BlockQ4_0& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < 16; ++j) {
    const int x0 = (b.qs[j] & 0x0F) - 8, x1 = (b.qs[j] >> 4) - 8;
    y[j] = static_cast<float>(x0) * d;
    y[j + 16] = static_cast<float>(x1) * d;
  }
}

void q4_1(const BlockQ4_1& b, float* y) {
  const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
    y[j + 16] = static_cast<float>(b.qs[j] >> 4) * d + m;
  }
}

// The fifth bits: bit j of qh for element j, bit j + 16 for element j + 16.
template <class Block>
void fifth_bits(const Block& b, int j, int& x0, int& x1) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  x0 = (b.qs[j] & 0x0F) | static_cast<int>(((qh >> j) << 4) & 0x10);
  x1 = (b.qs[j] >> 4) | static_cast<int>((qh >> (j + 12)) & 0x10);
}

void q5_0(const BlockQ5_0& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < 16; ++j) {
    int x0, x1;
    fifth_bits(b, j, x0, x1);
    y[j] = static_cast<float>(x0 - 16) * d;
    y[j + 16] = static_cast<float>(x1 - 16) * d;
  }
}

void q5_1(const BlockQ5_1& b, float* y) {
  const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
  for (int j = 0; j < 16; ++j) {
    int x0, x1;
    fifth_bits(b, j, x0, x1);
    y[j] = static_cast<float>(x0) * d + m;
    y[j + 16] = static_cast<float>(x1) * d + m;
  }
}

void q4_k(const BlockQ4_K& b, float* y) {
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  const uint8_t* q = b.qs;
  for (int j = 0, is = 0; j < kQKBlockSize; j += 64, is += 2, q += 32) {
    uint8_t sc, m;
    k_scale_min(is, b.scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    k_scale_min(is + 1, b.scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

void q5_k(const BlockQ5_K& b, float* y) {
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < kQKBlockSize; j += 64, is += 2, ql += 32) {
    uint8_t sc, m;
    k_scale_min(is, b.scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    k_scale_min(is + 1, b.scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
    u1 = static_cast<uint8_t>(u1 << 2);
    u2 = static_cast<uint8_t>(u2 << 2);
  }
}

void q6_k(const BlockQ6_K& b, float* y) {
  const float d = f16_to_f32(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int n = 0; n < kQKBlockSize; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

void q8_0(const BlockQ8_0& b, float* y) {
  const float d = f16_to_f32(b.scale_f16);
  for (int i = 0; i < kQ8BlockSize; ++i) y[i] = d * static_cast<float>(b.q[i]);
}

}  // namespace

void dequantize_blocks(DType t, const uint8_t* src, float* dst, int64_t n) {
  const int64_t be = dtype_block_elements(t);
  const size_t bb = dtype_block_bytes(t);
  for (int64_t i = 0; i < n; i += be, src += bb, dst += be) {
    switch (t) {
      case DType::F32: std::memcpy(dst, src, 4); break;
      case DType::F16: { uint16_t h; std::memcpy(&h, src, 2); *dst = f16_to_f32(h); break; }
      case DType::BF16: { uint16_t h; std::memcpy(&h, src, 2); *dst = bf16_to_f32(h); break; }
      case DType::Q4_0: q4_0(load_block<BlockQ4_0>(src), dst); break;
      case DType::Q4_1: q4_1(load_block<BlockQ4_1>(src), dst); break;
      case DType::Q5_0: q5_0(load_block<BlockQ5_0>(src), dst); break;
      case DType::Q5_1: q5_1(load_block<BlockQ5_1>(src), dst); break;
      case DType::Q8_0: q8_0(load_block<BlockQ8_0>(src), dst); break;
      case DType::Q4_K: q4_k(load_block<BlockQ4_K>(src), dst); break;
      case DType::Q5_K: q5_k(load_block<BlockQ5_K>(src), dst); break;
      case DType::Q6_K: q6_k(load_block<BlockQ6_K>(src), dst); break;
    }
  }
}

}  // namespace optipfair
