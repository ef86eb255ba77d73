// A read-only memory map of a whole file; tensors point into it without copying.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace optipfair {

class MappedFile {
 public:
  // Throws Error naming the path when the file cannot be opened or mapped. `padding` more bytes
  // after the file's end are readable zeros (parsers that read past the end in whole vectors need
  // them, e.g. simdjson's 64).
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path, size_t padding = 0);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // what munmap releases: the file and its padding, in whole pages
  std::filesystem::path path_;
};

}  // namespace optipfair
