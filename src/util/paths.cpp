#include "util/paths.h"

namespace optipfair {

namespace fs = std::filesystem;

bool path_same_or_inside(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  if (!fs::exists(outer, ec) || !fs::exists(inner, ec)) return false;
  for (fs::path p = fs::canonical(inner, ec); !ec && !p.empty(); p = p.parent_path()) {
    if (fs::equivalent(p, outer, ec)) return true;
    if (p == p.parent_path()) break;
  }
  return false;
}

}  // namespace optipfair
