#include "util/resources.h"

#include <cstdlib>

#include "util/build_paths.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

fs::path from_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? fs::path(v) : fs::path();
}

}  // namespace

fs::path installed_share_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.parent_path().filename() != "bin") return {};
  const fs::path share = exe.parent_path().parent_path() / "share" / "optipfair";
  return fs::is_directory(share, ec) ? share : fs::path();
}

fs::path bundled_data_dir() {
  if (fs::path env = from_env("OPTIPFAIR_DATA_DIR"); !env.empty()) return env;
  if (fs::path share = installed_share_dir(); !share.empty()) return share / "data";
  return OPTIPFAIR_DATA_DIR;
}

fs::path bundled_demo_model() {
  if (fs::path env = from_env("OPTIPFAIR_DEMO_MODEL"); !env.empty()) return env;
  if (fs::path share = installed_share_dir(); !share.empty()) return share / "models" / "demo";
  return OPTIPFAIR_DEMO_MODEL;
}

}  // namespace optipfair
