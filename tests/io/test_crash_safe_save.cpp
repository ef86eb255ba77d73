// Saving is crash-safe (issue 13): a save killed with SIGKILL midway leaves the previous output as
// it was and nothing that looks complete; a save into a file system that fills up fails with one
// sentence and leaves nothing behind. The saver runs as its own process (tools/make_synthetic_model,
// which writes through save_hf_model / save_gguf_model like every command).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "test_support.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;

std::string tool() { return test::tools_dir() + "/make_synthetic_model"; }

std::vector<std::string> save_args(const fs::path& out, const std::string& format, int seed) {
  // SmolLM2-135M's shape with 2 layers in F32: about 140 MB, long enough to be caught midway.
  return {tool(), "--preset", "smollm2-135m", "--layers", "2", "--dtype", "f32", "--seed", std::to_string(seed),
          "--format", format, "--output", out.string(), "--overwrite"};
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Bytes written so far under `dir`'s temporary siblings (the saver's "<name>.tmp-<pid>").
uintmax_t temporary_bytes(const fs::path& out) {
  uintmax_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out.parent_path(), ec)) {
    if (e.path().filename().string().rfind(out.filename().string() + ".tmp-", 0) != 0) continue;
    if (e.is_regular_file(ec)) total += e.file_size(ec);
    else
      for (const auto& f : fs::recursive_directory_iterator(e.path(), ec))
        if (f.is_regular_file(ec)) total += f.file_size(ec);
  }
  return total;
}

std::string fingerprint(const fs::path& p) {
  std::ostringstream s;
  auto add = [&](const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    s << f.filename().string() << ":" << std::hash<std::string>{}(bytes.str()) << ";";
  };
  if (fs::is_directory(p)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) add(f);
  } else {
    add(p);
  }
  return s.str();
}

class CrashSafeSave : public ::testing::TestWithParam<std::string> {};

TEST_P(CrashSafeSave, KilledMidwayKeepsThePreviousOutput) {
  if (!fs::exists(tool())) GTEST_SKIP() << "no " << tool();
  test::ScratchDir scratch;
  const std::string format = GetParam();
  const fs::path out = scratch / (format == "hf" ? "model" : "model.gguf");
  std::string log;
  ASSERT_EQ(test::run_command(tool() + " --preset smollm2-135m --layers 1 --dtype bf16 --format " + format +
                                  " --output " + out.string(), &log), 0) << log;
  const std::string before = fingerprint(out);

  const pid_t pid = spawn(save_args(out, format, 2));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int status = 0;
  bool exited = false;
  while (temporary_bytes(out) < (8u << 20) && std::chrono::steady_clock::now() < deadline)
    if ((exited = waitpid(pid, &status, WNOHANG) == pid)) break;
    else std::this_thread::sleep_for(std::chrono::microseconds(200));
  ASSERT_FALSE(exited) << "the save finished before it could be killed";
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  EXPECT_EQ(fingerprint(out), before) << "the previous output changed";
  for (const auto& e : fs::directory_iterator(scratch.path())) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(e.path() == out || name.find(".tmp-") != std::string::npos)
        << name << " is left beside the output under a name that looks finished";
  }
  // The next save goes through.
  ASSERT_EQ(test::run_command(tool() + " --preset smollm2-135m --layers 1 --dtype bf16 --seed 3 --format " + format +
                                  " --output " + out.string() + " --overwrite", &log), 0) << log;
  EXPECT_NE(fingerprint(out), before);
}

// A tmpfs of 4 MiB (as root), or else a 4 MiB file-size limit: the write fails either way.
TEST_P(CrashSafeSave, AFullFileSystemFailsCleanly) {
  if (!fs::exists(tool())) GTEST_SKIP() << "no " << tool();
  test::ScratchDir scratch;
  const std::string format = GetParam();
  const fs::path small = scratch / "small";
  fs::create_directories(small);
  const bool mounted = ::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=4m") == 0;
  const fs::path out = small / (format == "hf" ? "model" : "model.gguf");
  std::string command;
  for (const std::string& a : save_args(out, format, 1)) command += "'" + a + "' ";
  // Without the mount, the shell ignores SIGXFSZ so that writing past the limit is an error, not a kill.
  if (!mounted) command = "trap '' XFSZ; ulimit -f 4096; " + command;
  std::string log;
  const int rc = test::run_command("bash -c \"" + command + "\"", &log);
  const bool left_nothing = fs::is_empty(small);
  if (mounted) ::umount2(small.c_str(), MNT_DETACH);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_NE(log.find("could not write"), std::string::npos) << log;
  EXPECT_TRUE(log.find("No space left") != std::string::npos || log.find("too large") != std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << "one sentence: " << log;
  EXPECT_TRUE(left_nothing) << "the failed save left files behind";
}

INSTANTIATE_TEST_SUITE_P(Formats, CrashSafeSave, ::testing::Values("hf", "gguf"));

}  // namespace
}  // namespace optipfair
