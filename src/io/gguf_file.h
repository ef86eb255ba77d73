// Reading GGUF (v2/v3) files: metadata key/values and tensor descriptors pointing into the mapping.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "io/mapped_file.h"
#include "kernels/dtype.h"

namespace optipfair {

// One metadata value. All integers widen to int64 / uint64, floats to double, so callers need not
// care about the stored width. Arrays come in two forms, read through array_size / array_element:
// built in memory (and arrays of arrays), one GgufValue per element in `array`; or read from a
// file, where an array of numbers or strings stays in the mapped file (a vocabulary is 400k
// strings: one GgufValue each would be 50 MB of fresh memory on every load).
struct GgufValue {
  enum class Kind { Int, UInt, Float, Bool, String, Array };
  Kind kind = Kind::Int;
  uint32_t gguf_type = 0;               // the on-disk type id
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<GgufValue> array;
  uint32_t array_type = 0;              // element type id for arrays

  // The file form: `packed_count` elements of array_type from `packed` (numbers, little-endian as
  // stored) or as `packed_strings` (strings); `backing` keeps the mapping alive for copies.
  std::shared_ptr<const MappedFile> backing;
  const uint8_t* packed = nullptr;
  uint64_t packed_count = 0;
  std::vector<std::string_view> packed_strings;

  bool is_packed() const { return backing != nullptr; }
  size_t array_size() const { return is_packed() ? static_cast<size_t>(packed_count) : array.size(); }
  GgufValue array_element(size_t index) const;  // index below array_size()
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;   // outermost first (GGUF's ne reversed), like safetensors
  uint32_t ggml_type = 0;
  DType dtype = DType::F32;     // F32, F16, BF16 or a block type (kernels/quants.h)
  const void* data = nullptr;
  size_t nbytes = 0;
};

class GgufFile {
 public:
  // Throws Error on a bad magic, an unsupported version, an unknown tensor type, or anything
  // that runs past the end of the file.
  static GgufFile open(const std::filesystem::path& path);

  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  // Typed getters: throw Error naming the key when it is missing or of another kind.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;       // Int or UInt
  double get_float(const std::string& key) const;      // Float, Int or UInt
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  // The same without copies: views of the mapped file, valid while this GgufFile (or a copy of the
  // value) lives.
  std::span<const std::string_view> get_string_views(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  const std::shared_ptr<MappedFile>& mapping() const { return file_; }

 private:
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::shared_ptr<MappedFile> file_;
};

}  // namespace optipfair
