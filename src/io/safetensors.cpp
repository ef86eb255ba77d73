#include "io/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "util/error.h"

namespace optipfair {

using nlohmann::json;

namespace {

// Element size of every dtype safetensors defines, so that tensors we do not compute with
// (integer buffers, F64) are still bounds-checked.
size_t safetensors_element_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2},
      {"U16", 2},  {"F16", 2}, {"BF16", 2}, {"I32", 4},     {"U32", 4},     {"F32", 4},
      {"I64", 8},  {"U64", 8}, {"F64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile st;
  st.file_ = MappedFile::open(path);
  const std::string where = path.string();
  const size_t size = st.file_->size();
  if (size < 8) throw Error(where + " is not a safetensors file (shorter than its 8-byte header length)");
  uint64_t header_len;
  std::memcpy(&header_len, st.file_->data(), 8);
  if (header_len > size - 8)
    throw Error(where + " is truncated or corrupt: its header claims " + std::to_string(header_len) +
                " bytes but the file has " + std::to_string(size) + " bytes");
  if (header_len > (uint64_t{100} << 20))
    throw Error(where + " has an implausible header of " + std::to_string(header_len) + " bytes");
  const char* hdr = reinterpret_cast<const char*>(st.file_->data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(hdr, hdr + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + " has a corrupt safetensors header (invalid JSON)");
  }
  if (!header.is_object()) throw Error(where + " has a corrupt safetensors header (not a JSON object)");

  const uint8_t* data = st.file_->data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  for (auto& [name, desc] : header.items()) {
    if (name == "__metadata__") {
      st.metadata_ = desc;
      continue;
    }
    try {
      const std::string dtype = desc.at("dtype").get<std::string>();
      // Integers only: nlohmann converts a float such as 1e300 by a cast that is undefined behaviour.
      const json& shape_json = desc.at("shape");
      const json& offsets_json = desc.at("data_offsets");
      if (!shape_json.is_array() || !offsets_json.is_array() ||
          !std::all_of(shape_json.begin(), shape_json.end(), [](const json& d) { return d.is_number_integer(); }) ||
          !std::all_of(offsets_json.begin(), offsets_json.end(), [](const json& o) { return o.is_number_unsigned(); }))
        throw Error(where + ": tensor '" + name + "' has a shape or data_offsets that is not a list of integers");
      const auto offsets = offsets_json.get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1])
        throw Error(where + ": tensor '" + name + "' has invalid data_offsets");
      if (offsets[1] > data_size)
        throw Error(where + " is truncated or corrupt: tensor '" + name + "' ends at byte " +
                    std::to_string(offsets[1]) + " of a data section of " + std::to_string(data_size) +
                    " bytes");
      const size_t esize = safetensors_element_size(dtype);
      if (esize == 0) throw Error(where + ": tensor '" + name + "' has unknown dtype '" + dtype + "'");
      // The product is checked in Tensor::numel's order (left to right, in int64), and so is the
      // byte size, so that no wrapped product can match the offsets.
      std::vector<int64_t> shape;
      int64_t numel = 1, bytes = 0;
      for (const json& d : shape_json) {
        if (d.is_number_unsigned() && d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
          throw Error(where + ": tensor '" + name + "' has a shape too large to address");
        shape.push_back(d.get<int64_t>());
        if (shape.back() < 0) throw Error(where + ": tensor '" + name + "' has a negative dimension");
        if (__builtin_mul_overflow(numel, shape.back(), &numel))
          throw Error(where + ": tensor '" + name + "' has a shape too large to address");
      }
      if (__builtin_mul_overflow(numel, static_cast<int64_t>(esize), &bytes))
        throw Error(where + ": tensor '" + name + "' has a shape too large to address");
      if (static_cast<uint64_t>(bytes) != offsets[1] - offsets[0])
        throw Error(where + ": tensor '" + name + "' has " + std::to_string(offsets[1] - offsets[0]) +
                    " bytes but its shape needs " + std::to_string(bytes));
      if (dtype != "F32" && dtype != "F16" && dtype != "BF16") {
        st.unsupported_[name] = dtype;
        continue;
      }
      Tensor t;
      t.name = name;
      t.dtype = dtype_from_name(dtype);
      t.shape = shape;
      t.data = data + offsets[0];
      st.tensors_[name] = std::move(t);
    } catch (const nlohmann::json::exception&) {
      throw Error(where + ": tensor '" + name + "' has a malformed descriptor");
    }
  }
  return st;
}

const Tensor& SafetensorsFile::get(const std::string& name) const {
  if (auto it = tensors_.find(name); it != tensors_.end()) return it->second;
  if (auto it = unsupported_.find(name); it != unsupported_.end())
    throw Error(file_->path().string() + ": tensor '" + name + "' is stored as " + it->second +
                ", which optipfair cannot compute with (F32, F16 and BF16 are supported)");
  throw Error(file_->path().string() + " has no tensor '" + name + "'");
}

}  // namespace optipfair
