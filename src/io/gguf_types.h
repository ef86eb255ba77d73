// GGUF on-disk constants shared by the reader and the writer (values from the GGUF specification).
#pragma once
#include <cstdint>

#include "kernels/dtype.h"

namespace optipfair {

// Metadata value type ids.
enum : uint32_t {
  kGgufUint8 = 0,
  kGgufInt8 = 1,
  kGgufUint16 = 2,
  kGgufInt16 = 3,
  kGgufUint32 = 4,
  kGgufInt32 = 5,
  kGgufFloat32 = 6,
  kGgufBool = 7,
  kGgufString = 8,
  kGgufArray = 9,
  kGgufUint64 = 10,
  kGgufInt64 = 11,
  kGgufFloat64 = 12,
};

// ggml tensor type ids of the types this project reads and writes.
enum : uint32_t {
  kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ5_0 = 6, kGgmlQ5_1 = 7, kGgmlQ8_0 = 8,
  kGgmlQ4_K = 12, kGgmlQ5_K = 13, kGgmlQ6_K = 14, kGgmlBF16 = 30
};

constexpr uint32_t kGgufDefaultAlignment = 32;

// ggml's name for a tensor type id ("Q4_K"), or "unknown".
const char* ggml_type_name(uint32_t type);
// False when the type is not one of F32, F16, BF16, Q8_0.
bool ggml_type_to_dtype(uint32_t type, DType* out);
uint32_t dtype_to_ggml_type(DType t);

}  // namespace optipfair
