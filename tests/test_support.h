// Helpers every test binary shares: where the shared assets are, scratch folders.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

namespace optipfair::test {

// ../shared beside the repo, or $OPTIPFAIR_SHARED when set.
std::filesystem::path shared_dir();

// A path inside ../shared; the test is skipped (with the reason) when the file is absent.
std::filesystem::path shared_path(const std::string& relative);

// A fresh, empty folder under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The optipfair::Error message `f` throws; "(no error)" when it returns. Any other exception escapes
// and fails the test: bad input must end in an Error, nothing else.
std::string error_of(const std::function<void()>& f);

// Runs a shell command, returns its exit status; stdout+stderr captured in *output.
int run_command(const std::string& command, std::string* output);

// Path of the built optipfair CLI and of the tools folder.
std::string cli_path();
std::string tools_dir();

}  // namespace optipfair::test

// Skips the current test when a shared asset is missing.
#define OPTIPFAIR_REQUIRE_SHARED(path_expr)                                  \
  do {                                                                       \
    if (!std::filesystem::exists(path_expr))                                 \
      GTEST_SKIP() << "shared asset missing: " << (path_expr).string();      \
  } while (0)
