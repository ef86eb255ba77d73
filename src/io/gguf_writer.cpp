#include "io/gguf_writer.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <unistd.h>

#include "util/error.h"

namespace optipfair {

namespace {

GgufValue make_int(uint32_t type, int64_t v) {
  GgufValue g;
  g.kind = GgufValue::Kind::Int;
  g.gguf_type = type;
  g.i = v;
  return g;
}

GgufValue make_uint(uint32_t type, uint64_t v) {
  GgufValue g;
  g.kind = GgufValue::Kind::UInt;
  g.gguf_type = type;
  g.u = v;
  return g;
}

GgufValue make_float(uint32_t type, double v) {
  GgufValue g;
  g.kind = GgufValue::Kind::Float;
  g.gguf_type = type;
  g.f = v;
  return g;
}

template <typename T>
void put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof(T));
}

void put_string(std::ostream& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

void put_value(std::ostream& out, const GgufValue& v, const std::string& key) {
  // The stored kind decides which field carries the number; the type id decides its width.
  auto as_i = [&] { return v.kind == GgufValue::Kind::UInt ? static_cast<int64_t>(v.u) : v.i; };
  auto as_u = [&] { return v.kind == GgufValue::Kind::Int ? static_cast<uint64_t>(v.i) : v.u; };
  switch (v.gguf_type) {
    case kGgufUint8: put<uint8_t>(out, static_cast<uint8_t>(as_u())); break;
    case kGgufInt8: put<int8_t>(out, static_cast<int8_t>(as_i())); break;
    case kGgufUint16: put<uint16_t>(out, static_cast<uint16_t>(as_u())); break;
    case kGgufInt16: put<int16_t>(out, static_cast<int16_t>(as_i())); break;
    case kGgufUint32: put<uint32_t>(out, static_cast<uint32_t>(as_u())); break;
    case kGgufInt32: put<int32_t>(out, static_cast<int32_t>(as_i())); break;
    case kGgufUint64: put<uint64_t>(out, as_u()); break;
    case kGgufInt64: put<int64_t>(out, as_i()); break;
    case kGgufFloat32: put<float>(out, static_cast<float>(v.f)); break;
    case kGgufFloat64: put<double>(out, v.f); break;
    case kGgufBool: put<uint8_t>(out, v.b ? 1 : 0); break;
    case kGgufString: put_string(out, v.s); break;
    case kGgufArray:
      put<uint32_t>(out, v.array_type);
      put<uint64_t>(out, v.array_size());
      for (size_t k = 0; k < v.array_size(); ++k) {
        const GgufValue e = v.array_element(k);
        if (e.gguf_type != v.array_type)
          throw Error("GGUF metadata key '" + key + "' mixes element types in one array");
        put_value(out, e, key);
      }
      break;
    default:
      throw Error("GGUF metadata key '" + key + "' has unknown value type " + std::to_string(v.gguf_type));
  }
}

void pad_to(std::ostream& out, uint64_t pos, uint64_t alignment) {
  static const char zeros[256] = {};
  uint64_t pad = (alignment - pos % alignment) % alignment;
  while (pad > 0) {
    uint64_t n = pad < sizeof(zeros) ? pad : sizeof(zeros);
    out.write(zeros, static_cast<std::streamsize>(n));
    pad -= n;
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufValue gguf_uint8(uint8_t v) { return make_uint(kGgufUint8, v); }
GgufValue gguf_int8(int8_t v) { return make_int(kGgufInt8, v); }
GgufValue gguf_uint16(uint16_t v) { return make_uint(kGgufUint16, v); }
GgufValue gguf_int16(int16_t v) { return make_int(kGgufInt16, v); }
GgufValue gguf_uint32(uint32_t v) { return make_uint(kGgufUint32, v); }
GgufValue gguf_int32(int32_t v) { return make_int(kGgufInt32, v); }
GgufValue gguf_uint64(uint64_t v) { return make_uint(kGgufUint64, v); }
GgufValue gguf_int64(int64_t v) { return make_int(kGgufInt64, v); }
GgufValue gguf_float32(float v) { return make_float(kGgufFloat32, v); }
GgufValue gguf_float64(double v) { return make_float(kGgufFloat64, v); }

GgufValue gguf_bool(bool v) {
  GgufValue g;
  g.kind = GgufValue::Kind::Bool;
  g.gguf_type = kGgufBool;
  g.b = v;
  return g;
}

GgufValue gguf_string(std::string v) {
  GgufValue g;
  g.kind = GgufValue::Kind::String;
  g.gguf_type = kGgufString;
  g.s = std::move(v);
  return g;
}

GgufValue gguf_array(uint32_t element_type, std::vector<GgufValue> elements) {
  GgufValue g;
  g.kind = GgufValue::Kind::Array;
  g.gguf_type = kGgufArray;
  g.array_type = element_type;
  g.array = std::move(elements);
  return g;
}

GgufValue gguf_int32_array(const std::vector<int64_t>& v) {
  std::vector<GgufValue> e;
  e.reserve(v.size());
  for (int64_t x : v) e.push_back(gguf_int32(static_cast<int32_t>(x)));
  return gguf_array(kGgufInt32, std::move(e));
}

GgufValue gguf_float32_array(const std::vector<float>& v) {
  std::vector<GgufValue> e;
  e.reserve(v.size());
  for (float x : v) e.push_back(gguf_float32(x));
  return gguf_array(kGgufFloat32, std::move(e));
}

GgufValue gguf_string_array(const std::vector<std::string>& v) {
  std::vector<GgufValue> e;
  e.reserve(v.size());
  for (const std::string& x : v) e.push_back(gguf_string(x));
  return gguf_array(kGgufString, std::move(e));
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw Error("GGUF alignment must be a power of two");
  if (alignment != kGgufDefaultAlignment) set("general.alignment", gguf_uint32(alignment));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                            const void* data) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  size_t nbytes = dtype_bytes(dtype, numel);
  add_tensor(name, dtype, shape, [data, nbytes](std::ostream& out) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(nbytes));
  });
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                            TensorFill fill) {
  if (shape.empty() || shape.size() > 4)
    throw Error("GGUF tensor '" + name + "' must have 1 to 4 dimensions");
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw Error("GGUF tensor '" + name + "' has an empty dimension");
    numel *= d;
  }
  if (dtype == DType::Q8_0 && shape.back() % kQ8BlockSize != 0)
    throw Error("Q8_0 tensor '" + name + "' needs rows that are a multiple of 32");
  for (const PendingTensor& t : tensors_)
    if (t.name == name) throw Error("GGUF tensor '" + name + "' added twice");
  tensors_.push_back({name, dtype, shape, dtype_bytes(dtype, numel), std::move(fill)});
}

void GgufWriter::write(const std::filesystem::path& path, bool overwrite) const {
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec))
    throw Error(path.string() + " already exists (pass overwrite to replace it)");
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    // The destination is named in every message: the temporary name means nothing to the user.
    auto fail = [&](const char* what) -> Error {
      return Error(std::string(what) + " " + path.string() + ": " + std::strerror(errno ? errno : EIO));
    };
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw fail("could not create");
    out.write("GGUF", 4);
    put<uint32_t>(out, 3);
    put<uint64_t>(out, tensors_.size());
    put<uint64_t>(out, metadata_.size());
    for (const auto& [key, value] : metadata_) {
      put_string(out, key);
      put<uint32_t>(out, value.gguf_type);
      put_value(out, value, key);
    }
    uint64_t offset = 0;
    for (const PendingTensor& t : tensors_) {
      put_string(out, t.name);
      put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
      for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put<uint64_t>(out, static_cast<uint64_t>(*it));
      put<uint32_t>(out, dtype_to_ggml_type(t.dtype));
      put<uint64_t>(out, offset);
      offset = align_up(offset + t.nbytes, alignment_);
    }
    pad_to(out, static_cast<uint64_t>(out.tellp()), alignment_);
    for (const PendingTensor& t : tensors_) {
      std::streamoff start = out.tellp();
      t.fill(out);
      std::streamoff written = out.tellp() - start;
      if (!out) throw fail("could not write");
      if (static_cast<uint64_t>(written) != t.nbytes)
        throw Error("GGUF tensor '" + t.name + "' wrote " + std::to_string(written) + " bytes, expected " +
                    std::to_string(t.nbytes));
      pad_to(out, static_cast<uint64_t>(out.tellp()), alignment_);
    }
    out.flush();
    if (!out) throw fail("could not write");
    out.close();
    if (!out) throw fail("could not write");
    // On disk before it takes the final name, so a crash never leaves a complete-looking empty file.
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) throw fail("could not write");
    std::filesystem::rename(tmp, path);
  } catch (const std::filesystem::filesystem_error& e) {
    std::filesystem::remove(tmp, ec);
    throw Error("could not write " + path.string() + ": " + e.code().message());
  } catch (...) {
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

}  // namespace optipfair
