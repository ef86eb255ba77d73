// A mapped file with padding: the bytes after the end read as zeros whatever the file's size
// relative to a page, including none at all.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "io/mapped_file.h"
#include "test_support.h"

namespace optipfair {
namespace {

TEST(MappedFile, PaddingAfterTheEndReadsAsZeros) {
  test::ScratchDir dir;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (size_t size : {size_t{0}, size_t{1}, page - 10, page, 3 * page + 7}) {
    const std::string bytes(size, 'x');
    std::ofstream(dir / "f", std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(size));
    const auto file = MappedFile::open(dir / "f", 64);
    ASSERT_EQ(file->size(), size);
    ASSERT_NE(file->data(), nullptr) << size;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(file->data()), size), bytes) << size;
    for (size_t i = 0; i < 64; ++i) ASSERT_EQ(file->data()[size + i], 0) << size << " + " << i;
  }
}

}  // namespace
}  // namespace optipfair
