// Path checks shared by every writer and by anything that must keep a path inside a root.
#pragma once
#include <filesystem>

namespace optipfair {

// True when `inner` is `outer` or lies inside it, through symlinks and different spellings. Both
// must exist; otherwise false.
bool path_same_or_inside(const std::filesystem::path& inner, const std::filesystem::path& outer);

}  // namespace optipfair
