#include "io/safetensors_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unistd.h>

#include "kernels/quants.h"
#include "util/error.h"

namespace optipfair {

namespace {

bool storable(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

int64_t last_dim(const std::vector<int64_t>& shape) { return shape.empty() ? 1 : shape.back(); }

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Rows are everything but the last dimension, so 1-D tensors are a single row.
int64_t row_count(const std::vector<int64_t>& shape) {
  int64_t cols = last_dim(shape);
  return cols == 0 ? 0 : product(shape) / cols;
}

void widen_row(const void* src, DType t, int64_t n, float* dst) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    default:  // the block types: widened as ggml widens them
      dequantize_blocks(t, static_cast<const uint8_t*>(src), dst, n);
      return;
  }
}

void narrow_row(const float* src, int64_t n, DType t, void* dst) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    default: break;  // block types are refused before any byte is written
  }
}

void check_source(const SafetensorsEntry& e, const Tensor& s);

void check_entry(const SafetensorsEntry& e) {
  if (!storable(e.dtype))
    throw Error("tensor " + e.name + " cannot be stored as " + dtype_name(e.dtype) +
                " in safetensors (use F32, F16 or BF16)");
  if (e.parts.empty()) return check_source(e, e.source);
  int64_t rows = 0;
  for (const Tensor& part : e.parts) {
    check_source(e, part);
    if (e.part_rows > 0 && row_count(part.shape) > e.part_rows)
      throw Error("tensor " + e.name + " has a part larger than its block");
    rows += e.part_rows > 0 ? e.part_rows : row_count(part.shape);
  }
  if (rows != row_count(e.shape)) throw Error("tensor " + e.name + " has parts of " + std::to_string(rows) + " rows for " +
                                              std::to_string(row_count(e.shape)));
}

void check_source(const SafetensorsEntry& e, const Tensor& s) {
  if (!s.present()) throw Error("tensor " + e.name + " has no data to write");
  for (int64_t d : e.shape)
    if (d < 0) throw Error("tensor " + e.name + " has a negative dimension");
  int64_t src_cols = last_dim(s.shape);
  if (s.shape.size() != e.shape.size() && !(s.shape.size() <= 1 && e.shape.size() <= 1))
    throw Error("tensor " + e.name + " has " + std::to_string(s.shape.size()) + " dimensions but is stored with " +
                std::to_string(e.shape.size()));
  if (src_cols > last_dim(e.shape) || (e.parts.empty() && row_count(s.shape) > row_count(e.shape)))
    throw Error("tensor " + e.name + " is larger than the shape it is stored with");
  if (src_cols % dtype_block_elements(s.dtype) != 0)
    throw Error("tensor " + e.name + " is " + dtype_name(s.dtype) + " with rows not a multiple of " +
                std::to_string(dtype_block_elements(s.dtype)) + " values");
  if (s.stride() < src_cols) throw Error("tensor " + e.name + " has a row stride shorter than its rows");
}

// The file handle closes however the writer leaves.
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

class StreamWriter {
 public:
  explicit StreamWriter(const std::filesystem::path& file) : path_(file) {
    f_.reset(std::fopen(file.c_str(), "wb"));
    if (!f_) fail();
    buffer_.resize(kBufferBytes);
  }
  // Room for `bytes` contiguous bytes in the buffer, flushing first when needed.
  uint8_t* reserve(size_t bytes) {
    if (used_ + bytes > buffer_.size()) flush();
    if (bytes > buffer_.size()) buffer_.resize(bytes);
    uint8_t* p = buffer_.data() + used_;
    used_ += bytes;
    return p;
  }
  void write(const void* data, size_t bytes) { std::memcpy(reserve(bytes), data, bytes); }
  void flush() {
    if (used_ && std::fwrite(buffer_.data(), 1, used_, f_.get()) != used_) fail();
    used_ = 0;
  }
  // Flushes, syncs to disk and closes: the file is complete only when this returns.
  void finish() {
    flush();
    if (std::fflush(f_.get()) != 0 || ::fsync(::fileno(f_.get())) != 0) fail();
    FILE* f = f_.release();
    if (std::fclose(f) != 0) fail();
  }

 private:
  [[noreturn]] void fail() const {
    throw Error("could not write " + path_.string() + ": " + std::strerror(errno));
  }
  static constexpr size_t kBufferBytes = size_t{8} << 20;
  std::filesystem::path path_;
  std::unique_ptr<FILE, FileCloser> f_;
  std::vector<uint8_t> buffer_;
  size_t used_ = 0;
};

// `rows` stored rows of width last_dim(e.shape) from s: its rows converted and zero-padded on the
// right, then zero rows.
void write_rows(StreamWriter& out, const SafetensorsEntry& e, const Tensor& s, int64_t rows) {
  const int64_t cols = last_dim(e.shape);
  const int64_t src_rows = row_count(s.shape), src_cols = last_dim(s.shape);
  const size_t row_bytes = dtype_bytes(e.dtype, cols);
  const size_t src_row_bytes = dtype_bytes(s.dtype, s.stride());
  const size_t copy_bytes = dtype_bytes(e.dtype, src_cols);
  const bool same_type = s.dtype == e.dtype;
  std::vector<float> wide(same_type ? 0 : static_cast<size_t>(src_cols));
  const auto* base = static_cast<const uint8_t*>(s.data);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* dst = out.reserve(row_bytes);
    if (r >= src_rows) {
      std::memset(dst, 0, row_bytes);
      continue;
    }
    const uint8_t* src = base + static_cast<size_t>(r) * src_row_bytes;
    if (same_type) {
      std::memcpy(dst, src, copy_bytes);
    } else {
      widen_row(src, s.dtype, src_cols, wide.data());
      narrow_row(wide.data(), src_cols, e.dtype, dst);
    }
    std::memset(dst + copy_bytes, 0, row_bytes - copy_bytes);
  }
}

void write_entry(StreamWriter& out, const SafetensorsEntry& e) {
  if (e.parts.empty()) return write_rows(out, e, e.source, row_count(e.shape));
  for (const Tensor& part : e.parts) write_rows(out, e, part, e.part_rows > 0 ? e.part_rows : row_count(part.shape));
}

}  // namespace

uint64_t safetensors_entry_bytes(const SafetensorsEntry& entry) {
  return dtype_bytes(entry.dtype, product(entry.shape));
}

void safetensors_write(const std::filesystem::path& file, const std::vector<SafetensorsEntry>& entries,
                       const nlohmann::json& metadata) {
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& e : entries) {
    check_entry(e);
    if (header.contains(e.name)) throw Error("tensor " + e.name + " is listed twice");
    uint64_t bytes = safetensors_entry_bytes(e);
    header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.is_null() && !metadata.empty()) header["__metadata__"] = metadata;

  // Readers expect the data section 8-byte aligned: pad the header with spaces, as safetensors does.
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  StreamWriter out(file);
  out.write(length, 8);
  out.write(text.data(), text.size());
  for (const auto& e : entries) write_entry(out, e);
  out.finish();
}

}  // namespace optipfair
