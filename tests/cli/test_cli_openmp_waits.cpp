// The command starts its OpenMP threads spinning 10,000 rounds before they sleep, unless the user
// chose (cli/openmp_waits.h); `--version` reports what libgomp was started with.
#include <gtest/gtest.h>

#include "test_support.h"

namespace optipfair {
namespace {

std::string idle_line(const std::string& env) {
  std::string out;
  EXPECT_EQ(test::run_command("env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY " + env + " " + test::cli_path() + " --version", &out), 0)
      << out;
  const size_t at = out.find("idle threads: ");
  return at == std::string::npos ? out : out.substr(at, out.find('\n', at) - at);
}

TEST(CliOpenmpWaits, SpinsTenThousandRoundsUnlessTheUserChose) {
  EXPECT_EQ(idle_line(""), "idle threads: spin 10000 rounds, then sleep (GOMP_SPINCOUNT)");
  EXPECT_EQ(idle_line("GOMP_SPINCOUNT=7"), "idle threads: spin 7 rounds, then sleep (GOMP_SPINCOUNT)");
  EXPECT_EQ(idle_line("OMP_WAIT_POLICY=active"), "idle threads: OMP_WAIT_POLICY=active");
}

}  // namespace
}  // namespace optipfair
