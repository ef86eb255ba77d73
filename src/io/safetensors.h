// Reading .safetensors files: a JSON header of tensor descriptors, then raw little-endian data.
// Tensors are views into the memory map; nothing is copied.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "model/tensor.h"

namespace optipfair {

class SafetensorsFile {
 public:
  // Validates the header against the file: every offset inside the data section, every size
  // equal to shape x element size. Throws Error naming the file and the problem.
  static SafetensorsFile open(const std::filesystem::path& path);

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws Error when the tensor is absent or stored in a type the kernels do not read.
  const Tensor& get(const std::string& name) const;
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  const nlohmann::json& metadata() const { return metadata_; }
  const std::shared_ptr<MappedFile>& mapping() const { return file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> unsupported_;  // name -> stored dtype (e.g. I64 buffers)
  nlohmann::json metadata_;
};

}  // namespace optipfair
