// SHA-256 of bytes and of files (OpenSSL), as lowercase hex: checksums of downloaded data.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace optipfair {

std::string sha256_hex(std::string_view bytes);
// Throws Error naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace optipfair
