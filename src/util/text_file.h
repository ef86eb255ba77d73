// Writing a whole file atomically: a temporary beside it, renamed over the real name only when
// every byte is on disk, so a crash or a full disk never leaves half a file under that name.
#pragma once
#include <filesystem>
#include <string_view>

namespace optipfair {

// Throws Error naming the file when it cannot be written; the temporary is removed.
void write_text_file(const std::filesystem::path& path, std::string_view text);

}  // namespace optipfair
