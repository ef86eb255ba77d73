#include "io/gguf_file.h"

#include <cstring>
#include <limits>
#include <set>

#include "io/gguf_types.h"
#include "util/error.h"

namespace optipfair {

namespace {

// Nested arrays deeper than this are not something a model file needs; refusing them bounds recursion.
constexpr int kMaxArrayDepth = 4;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

// Sequential little-endian reader over the mapping; every read is checked against the end so that a
// truncated or lying file ends in an Error rather than a read past the map.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& file) : data_(data), size_(size), file_(file) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  void need(size_t n, const char* what) const {
    if (n > remaining())
      throw Error(file_ + " is truncated: it ends inside the " + what + " at byte " + std::to_string(pos_));
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view read_string_view(const char* what) {
    uint64_t n = read<uint64_t>(what);
    need(static_cast<size_t>(n), what);
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::string read_string(const char* what) { return std::string(read_string_view(what)); }
  const uint8_t* here() const { return data_ + pos_; }
  void skip(size_t n) {
    need(n, "metadata");
    pos_ += n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& file_;
};

// Smallest encoded size of one element of a GGUF type, used to reject counts the file cannot hold.
size_t min_encoded_size(uint32_t type) {
  switch (type) {
    case kGgufUint8: case kGgufInt8: case kGgufBool: return 1;
    case kGgufUint16: case kGgufInt16: return 2;
    case kGgufUint32: case kGgufInt32: case kGgufFloat32: return 4;
    case kGgufUint64: case kGgufInt64: case kGgufFloat64: case kGgufString: return 8;
    case kGgufArray: return 12;
    default: return 0;
  }
}

// `backing` is the mapping `in` reads: arrays of numbers and strings point into it. Null for a
// single element read again from such an array.
GgufValue read_value(Cursor& in, uint32_t type, const std::string& key, const std::string& file, int depth,
                     const std::shared_ptr<MappedFile>& backing) {
  GgufValue v;
  v.gguf_type = type;
  const char* what = "metadata";
  switch (type) {
    case kGgufUint8: v.kind = GgufValue::Kind::UInt; v.u = in.read<uint8_t>(what); break;
    case kGgufUint16: v.kind = GgufValue::Kind::UInt; v.u = in.read<uint16_t>(what); break;
    case kGgufUint32: v.kind = GgufValue::Kind::UInt; v.u = in.read<uint32_t>(what); break;
    case kGgufUint64: v.kind = GgufValue::Kind::UInt; v.u = in.read<uint64_t>(what); break;
    case kGgufInt8: v.kind = GgufValue::Kind::Int; v.i = in.read<int8_t>(what); break;
    case kGgufInt16: v.kind = GgufValue::Kind::Int; v.i = in.read<int16_t>(what); break;
    case kGgufInt32: v.kind = GgufValue::Kind::Int; v.i = in.read<int32_t>(what); break;
    case kGgufInt64: v.kind = GgufValue::Kind::Int; v.i = in.read<int64_t>(what); break;
    case kGgufFloat32: v.kind = GgufValue::Kind::Float; v.f = in.read<float>(what); break;
    case kGgufFloat64: v.kind = GgufValue::Kind::Float; v.f = in.read<double>(what); break;
    case kGgufBool: {
      v.kind = GgufValue::Kind::Bool;
      uint8_t b = in.read<uint8_t>(what);
      if (b > 1) throw Error(file + ": metadata key '" + key + "' holds an invalid boolean");
      v.b = b != 0;
      break;
    }
    case kGgufString: v.kind = GgufValue::Kind::String; v.s = in.read_string(what); break;
    case kGgufArray: {
      if (depth >= kMaxArrayDepth)
        throw Error(file + ": metadata key '" + key + "' nests arrays too deeply");
      v.kind = GgufValue::Kind::Array;
      v.array_type = in.read<uint32_t>(what);
      uint64_t n = in.read<uint64_t>(what);
      size_t min_size = min_encoded_size(v.array_type);
      if (min_size == 0)
        throw Error(file + ": metadata key '" + key + "' has unknown array element type " +
                    std::to_string(v.array_type));
      if (n > in.remaining() / min_size)
        throw Error(file + ": metadata key '" + key + "' claims " + std::to_string(n) +
                    " array elements, more than the file can hold");
      if (v.array_type == kGgufArray || !backing) {
        v.array.reserve(static_cast<size_t>(n));
        for (uint64_t k = 0; k < n; ++k) v.array.push_back(read_value(in, v.array_type, key, file, depth + 1, backing));
        break;
      }
      v.backing = backing;
      v.packed = in.here();
      v.packed_count = n;
      if (v.array_type == kGgufString) {
        v.packed_strings.reserve(static_cast<size_t>(n));
        for (uint64_t k = 0; k < n; ++k) v.packed_strings.push_back(in.read_string_view("metadata"));
      } else {
        in.need(static_cast<size_t>(n) * min_size, "metadata");  // n * min_size <= remaining: checked above
        if (v.array_type == kGgufBool)
          for (uint64_t k = 0; k < n; ++k)
            if (v.packed[k] > 1) throw Error(file + ": metadata key '" + key + "' holds an invalid boolean");
        in.skip(static_cast<size_t>(n) * min_size);
      }
      break;
    }
    default:
      throw Error(file + ": metadata key '" + key + "' has unknown value type " + std::to_string(type));
  }
  return v;
}

const char* kind_name(GgufValue::Kind k) {
  switch (k) {
    case GgufValue::Kind::Int: return "a signed integer";
    case GgufValue::Kind::UInt: return "an unsigned integer";
    case GgufValue::Kind::Float: return "a float";
    case GgufValue::Kind::Bool: return "a boolean";
    case GgufValue::Kind::String: return "a string";
    case GgufValue::Kind::Array: return "an array";
  }
  return "?";
}

int64_t value_as_int(const GgufValue& v, const std::string& key) {
  if (v.kind == GgufValue::Kind::Int) return v.i;
  if (v.kind == GgufValue::Kind::UInt) {
    if (v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error("GGUF metadata key '" + key + "' is too large");
    return static_cast<int64_t>(v.u);
  }
  throw Error("GGUF metadata key '" + key + "' is " + kind_name(v.kind) + ", not an integer");
}

double value_as_float(const GgufValue& v, const std::string& key) {
  if (v.kind == GgufValue::Kind::Float) return v.f;
  if (v.kind == GgufValue::Kind::Int) return static_cast<double>(v.i);
  if (v.kind == GgufValue::Kind::UInt) return static_cast<double>(v.u);
  throw Error("GGUF metadata key '" + key + "' is " + kind_name(v.kind) + ", not a number");
}

}  // namespace

const char* ggml_type_name(uint32_t type) {
  static const char* const names[] = {
      "F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0",    "Q5_1",    "Q8_0",   "Q8_1",    "Q2_K",
      "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
      "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16"};
  if (type < sizeof(names) / sizeof(names[0])) return names[type];
  return "unknown";
}

bool ggml_type_to_dtype(uint32_t type, DType* out) {
  switch (type) {
    case kGgmlF32: *out = DType::F32; return true;
    case kGgmlF16: *out = DType::F16; return true;
    case kGgmlBF16: *out = DType::BF16; return true;
    case kGgmlQ8_0: *out = DType::Q8_0; return true;
    case kGgmlQ4_0: *out = DType::Q4_0; return true;
    case kGgmlQ4_1: *out = DType::Q4_1; return true;
    case kGgmlQ5_0: *out = DType::Q5_0; return true;
    case kGgmlQ5_1: *out = DType::Q5_1; return true;
    case kGgmlQ4_K: *out = DType::Q4_K; return true;
    case kGgmlQ5_K: *out = DType::Q5_K; return true;
    case kGgmlQ6_K: *out = DType::Q6_K; return true;
    default: return false;
  }
}

uint32_t dtype_to_ggml_type(DType t) {
  switch (t) {
    case DType::F32: return kGgmlF32;
    case DType::F16: return kGgmlF16;
    case DType::BF16: return kGgmlBF16;
    case DType::Q8_0: return kGgmlQ8_0;
    case DType::Q4_0: return kGgmlQ4_0;
    case DType::Q4_1: return kGgmlQ4_1;
    case DType::Q5_0: return kGgmlQ5_0;
    case DType::Q5_1: return kGgmlQ5_1;
    case DType::Q4_K: return kGgmlQ4_K;
    case DType::Q5_K: return kGgmlQ5_K;
    case DType::Q6_K: return kGgmlQ6_K;
  }
  return kGgmlF32;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  GgufFile g;
  g.file_ = MappedFile::open(path);
  const std::string file = path.string();
  Cursor in(g.file_->data(), g.file_->size(), file);

  if (g.file_->size() < 4 || std::memcmp(g.file_->data(), "GGUF", 4) != 0)
    throw Error(file + " is not a GGUF file (bad magic)");
  in.read<uint32_t>("header");
  g.version_ = in.read<uint32_t>("header");
  if (g.version_ != 2 && g.version_ != 3)
    throw Error(file + " is GGUF version " + std::to_string(g.version_) + "; only versions 2 and 3 are supported");
  uint64_t n_tensors = in.read<uint64_t>("header");
  uint64_t n_kv = in.read<uint64_t>("header");
  // A key/value pair takes at least 8 (key length) + 4 (type) + 1 bytes, a tensor info 8 + 4 + 4 + 8.
  if (n_kv > in.remaining() / 13)
    throw Error(file + " claims " + std::to_string(n_kv) + " metadata entries, more than the file can hold");
  if (n_tensors > in.remaining() / 24)
    throw Error(file + " claims " + std::to_string(n_tensors) + " tensors, more than the file can hold");

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = in.read_string("metadata");
    uint32_t type = in.read<uint32_t>("metadata");
    GgufValue v = read_value(in, type, key, file, 0, g.file_);
    if (!g.metadata_.emplace(key, std::move(v)).second)
      throw Error(file + " repeats metadata key '" + key + "'");
  }

  uint64_t alignment = kGgufDefaultAlignment;
  if (g.has("general.alignment")) {
    const GgufValue& a = g.metadata_.at("general.alignment");
    if (a.kind != GgufValue::Kind::UInt || a.u == 0 || (a.u & (a.u - 1)) != 0 || a.u > (1u << 20))
      throw Error(file + ": general.alignment must be a power of two");
    alignment = a.u;
  }

  struct RawInfo {
    uint64_t offset;
  };
  std::vector<RawInfo> raw;
  std::set<std::string> names;
  g.tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t;
    t.name = in.read_string("tensor table");
    uint32_t n_dims = in.read<uint32_t>("tensor table");
    if (n_dims == 0 || n_dims > kMaxDims)
      throw Error(file + ": tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
    std::vector<int64_t> ne(n_dims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t e = in.read<uint64_t>("tensor table");
      // 2^40 elements per dimension is far beyond any real tensor and keeps the product from overflowing.
      if (e == 0 || e > (uint64_t{1} << 40) || numel > std::numeric_limits<uint64_t>::max() / e)
        throw Error(file + ": tensor '" + t.name + "' has an invalid dimension " + std::to_string(e));
      numel *= e;
      ne[d] = static_cast<int64_t>(e);
    }
    if (numel > (uint64_t{1} << 48))
      throw Error(file + ": tensor '" + t.name + "' is impossibly large");
    t.shape.assign(ne.rbegin(), ne.rend());
    t.ggml_type = in.read<uint32_t>("tensor table");
    if (!ggml_type_to_dtype(t.ggml_type, &t.dtype))
      throw Error(file + ": tensor '" + t.name + "' has type " + ggml_type_name(t.ggml_type) + " (ggml type " +
                  std::to_string(t.ggml_type) +
                  "), which is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
    if (ne[0] % dtype_block_elements(t.dtype) != 0)
      throw Error(file + ": " + dtype_name(t.dtype) + " tensor '" + t.name + "' has rows that are not a multiple of " +
                  std::to_string(dtype_block_elements(t.dtype)));
    t.nbytes = dtype_bytes(t.dtype, static_cast<int64_t>(numel));
    uint64_t offset = in.read<uint64_t>("tensor table");
    if (offset % alignment != 0)
      throw Error(file + ": tensor '" + t.name + "' data offset is not aligned to " + std::to_string(alignment));
    if (!names.insert(t.name).second) throw Error(file + " repeats tensor '" + t.name + "'");
    raw.push_back({offset});
    g.tensors_.push_back(std::move(t));
  }

  uint64_t data_start = (in.pos() + alignment - 1) / alignment * alignment;
  const uint64_t size = g.file_->size();
  // A file with no tensors (a vocabulary-only GGUF) may end right after the tables, unpadded.
  if (n_tensors > 0 && data_start > size)
    throw Error(file + " is truncated: it ends before its tensor data");
  for (size_t k = 0; k < g.tensors_.size(); ++k) {
    GgufTensorInfo& t = g.tensors_[k];
    uint64_t off = raw[k].offset;
    if (off > size - data_start || t.nbytes > size - data_start - off)
      throw Error(file + ": tensor '" + t.name + "' data runs past the end of the file (the file is truncated or corrupt)");
    t.data = g.file_->data() + data_start + off;
  }
  return g;
}

std::string GgufFile::get_string(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw Error("GGUF metadata key '" + key + "' is missing");
  if (it->second.kind != GgufValue::Kind::String)
    throw Error("GGUF metadata key '" + key + "' is " + kind_name(it->second.kind) + ", not a string");
  return it->second.s;
}

int64_t GgufFile::get_int(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw Error("GGUF metadata key '" + key + "' is missing");
  return value_as_int(it->second, key);
}

double GgufFile::get_float(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw Error("GGUF metadata key '" + key + "' is missing");
  return value_as_float(it->second, key);
}

bool GgufFile::get_bool(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw Error("GGUF metadata key '" + key + "' is missing");
  if (it->second.kind != GgufValue::Kind::Bool)
    throw Error("GGUF metadata key '" + key + "' is " + kind_name(it->second.kind) + ", not a boolean");
  return it->second.b;
}

namespace {
const GgufValue& array_value(const std::map<std::string, GgufValue>& md, const std::string& key) {
  auto it = md.find(key);
  if (it == md.end()) throw Error("GGUF metadata key '" + key + "' is missing");
  if (it->second.kind != GgufValue::Kind::Array)
    throw Error("GGUF metadata key '" + key + "' is " + kind_name(it->second.kind) + ", not an array");
  return it->second;
}
}  // namespace

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  const std::span<const std::string_view> views = get_string_views(key);
  return std::vector<std::string>(views.begin(), views.end());
}

std::span<const std::string_view> GgufFile::get_string_views(const std::string& key) const {
  const GgufValue& a = array_value(metadata_, key);
  // A file's arrays of strings are always packed; an empty array of any type is an empty list.
  if (a.array_size() == 0) return {};
  if (!a.is_packed() || a.array_type != kGgufString)
    throw Error("GGUF metadata key '" + key + "' is not an array of strings");
  return a.packed_strings;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& a = array_value(metadata_, key);
  std::vector<int64_t> out;
  out.reserve(a.array_size());
  for (size_t k = 0; k < a.array_size(); ++k) out.push_back(value_as_int(a.array_element(k), key));
  return out;
}

std::vector<double> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& a = array_value(metadata_, key);
  std::vector<double> out;
  out.reserve(a.array_size());
  for (size_t k = 0; k < a.array_size(); ++k) out.push_back(value_as_float(a.array_element(k), key));
  return out;
}

GgufValue GgufValue::array_element(size_t index) const {
  if (!is_packed()) return array[index];
  static const std::string kNoName;
  if (array_type == kGgufString) {
    GgufValue v;
    v.kind = Kind::String;
    v.gguf_type = kGgufString;
    v.s = std::string(packed_strings[index]);
    return v;
  }
  const size_t size = min_encoded_size(array_type);  // the exact size of a number or boolean
  Cursor in(packed + index * size, size, kNoName);
  return read_value(in, array_type, kNoName, kNoName, 0, nullptr);
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  for (const GgufTensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace optipfair
