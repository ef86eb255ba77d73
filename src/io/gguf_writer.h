// Writing GGUF v3 files: metadata of any type plus aligned tensor data, written atomically.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_file.h"
#include "io/gguf_types.h"

namespace optipfair {

// Keys and values in the order they are to be written.
using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

// Metadata value builders (the on-disk type is the one named).
GgufValue gguf_uint8(uint8_t v);
GgufValue gguf_int8(int8_t v);
GgufValue gguf_uint16(uint16_t v);
GgufValue gguf_int16(int16_t v);
GgufValue gguf_uint32(uint32_t v);
GgufValue gguf_int32(int32_t v);
GgufValue gguf_uint64(uint64_t v);
GgufValue gguf_int64(int64_t v);
GgufValue gguf_float32(float v);
GgufValue gguf_float64(double v);
GgufValue gguf_bool(bool v);
GgufValue gguf_string(std::string v);
// Every element must have gguf_type == element_type.
GgufValue gguf_array(uint32_t element_type, std::vector<GgufValue> elements);
GgufValue gguf_int32_array(const std::vector<int64_t>& v);
GgufValue gguf_float32_array(const std::vector<float>& v);
GgufValue gguf_string_array(const std::vector<std::string>& v);

class GgufWriter {
 public:
  // Writes exactly the tensor's byte size to the stream (the writer checks the count).
  using TensorFill = std::function<void(std::ostream&)>;

  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Sets (or replaces) a key; keys are written in the order first set.
  void set(const std::string& key, GgufValue value);
  // shape is outermost first (as in Tensor); data is not copied and must outlive write().
  void add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data);
  void add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, TensorFill fill);

  // Writes `path` + ".tmp-<pid>" then renames it onto `path`. Throws Error when `path` exists and
  // overwrite is false, or on any I/O failure (the temporary is removed).
  void write(const std::filesystem::path& path, bool overwrite = false) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    size_t nbytes;
    TensorFill fill;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace optipfair
