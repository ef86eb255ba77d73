#include "cli/openmp_waits.h"

#include <unistd.h>

#include <cstdlib>

namespace optipfair::cli {

void openmp_waits_default(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (::setenv("GOMP_SPINCOUNT", kDefaultSpinCount, 1) != 0) return;
  ::execv("/proc/self/exe", argv);  // returns only on failure: no /proc, or the file is gone
}

}  // namespace optipfair::cli
