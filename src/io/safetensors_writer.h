// Writing .safetensors files without building them in memory: the header first, then each
// tensor streamed row by row, converted to the file's type and zero-padded to the file's shape.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/tensor.h"

namespace optipfair {

// One tensor as it will be stored. `source` may be narrower than `shape` (fewer rows, fewer
// columns): the missing rows and columns are written as zeros, so a layer pruned narrower than
// its neighbours can sit in a file whose tensors all share the widest layer's shape.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;       // stored type: F32, F16 or BF16
  std::vector<int64_t> shape;     // stored shape (outermost first)
  Tensor source;                  // the values; F32, F16, BF16 or Q8_0, rows possibly strided
  // A fused tensor (Phi-3's qkv_proj, gate_up_proj): when set, the stored rows are these tensors'
  // one after another, each block zero-padded to `part_rows` rows (0: its own rows), and `source`
  // is not used.
  std::vector<Tensor> parts{};
  int64_t part_rows = 0;
};

// Bytes the entry takes in the file's data section.
uint64_t safetensors_entry_bytes(const SafetensorsEntry& entry);

// Writes `file` (replacing it). Throws Error naming the file when a tensor is inconsistent or the
// disk refuses; a partly written file is then left for the caller to remove.
void safetensors_write(const std::filesystem::path& file, const std::vector<SafetensorsEntry>& entries,
                       const nlohmann::json& metadata = {{"format", "pt"}});

}  // namespace optipfair
