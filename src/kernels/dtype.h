// Element types of stored weights and the scalar conversions between them.
// Weights stay in their stored type; kernels widen to float32 as they read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace optipfair {

// Stored element types: plain floats, and GGUF's block-quantised types (kernels/quants.h).
enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K };

// "F32", "F16", "BF16", "Q8_0", "Q4_K", ... (safetensors and ggml spelling).
const char* dtype_name(DType t);
// Accepts those names and torch-style names ("float32", "bfloat16", "float16"); throws Error otherwise.
DType dtype_from_name(std::string_view name);

// Elements per block (1 for F32/F16/BF16, 32 for Q4_0..Q8_0, 256 for the K-quants) and its bytes.
constexpr int64_t dtype_block_elements(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16: return 1;
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1: return 32;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return 256;
  }
  return 1;
}
constexpr size_t dtype_block_bytes(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::Q8_0: return 34;
    case DType::Q4_0: return 18;
    case DType::Q4_1: return 20;
    case DType::Q5_0: return 22;
    case DType::Q5_1: return 24;
    case DType::Q4_K: return 144;
    case DType::Q5_K: return 176;
    case DType::Q6_K: return 210;
  }
  return 4;
}
constexpr bool dtype_is_quantized(DType t) { return dtype_block_elements(t) > 1; }

// Bytes taken by n consecutive elements (n must be a multiple of the type's block).
constexpr size_t dtype_bytes(DType t, int64_t n) {
  return static_cast<size_t>(n / dtype_block_elements(t)) * dtype_block_bytes(t);
}

// Q8_0 as GGUF stores it: 32 int8 values sharing one f16 scale.
constexpr int kQ8BlockSize = 32;
struct BlockQ8_0 {
  uint16_t scale_f16;
  int8_t q[kQ8BlockSize];
};
static_assert(sizeof(BlockQ8_0) == 34);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as torch does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace optipfair
