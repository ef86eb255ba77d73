#include "io/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

namespace optipfair {

std::shared_ptr<MappedFile> MappedFile::open(const std::filesystem::path& path, size_t padding) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path.string() + " is not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<size_t>(st.st_size);
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    throw Error(std::string(what) + " " + path.string() + ": " + std::strerror(err));
  };
  if (padding > 0) {
    // Anonymous zero pages for the whole length, then the file over their start: the tail of the
    // file's last page reads as zeros, and so do the whole pages after it.
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    if (file->size_ > SIZE_MAX - padding - page) {
      errno = EFBIG;
      fail("cannot map");
    }
    file->mapped_ = (file->size_ + padding + page - 1) / page * page;
    void* base = ::mmap(nullptr, file->mapped_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) fail("cannot map");
    file->data_ = static_cast<const uint8_t*>(base);
    if (file->size_ > 0 && ::mmap(base, file->size_, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
      fail("cannot map");
  } else if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) fail("cannot map");
    file->data_ = static_cast<const uint8_t*>(p);
    file->mapped_ = file->size_;
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), mapped_);
}

}  // namespace optipfair
