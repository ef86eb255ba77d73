// Element types of stored weights and the scalar conversions between them.
// Weights stay in their stored type; kernels widen to float32 as they read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace optipfair {

enum class DType : uint8_t { F32, F16, BF16, Q8_0 };

// "F32", "F16", "BF16", "Q8_0" (safetensors spelling).
const char* dtype_name(DType t);
// Accepts safetensors names and torch-style names ("float32", "bfloat16", "float16"); throws Error otherwise.
DType dtype_from_name(std::string_view name);
// Bytes taken by n consecutive elements (n must be a multiple of 32 for Q8_0).
size_t dtype_bytes(DType t, int64_t n);

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
