// `optipfair --version`: the version and the options this binary was built with.
#include <omp.h>

#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "cli/mpi_session.h"
#include "kernels/matmul.h"
#include "util/build_info.h"

namespace optipfair::cli {

std::string version_text() {
  std::string s = "optipfair " OPTIPFAIR_VERSION;
  if (*OPTIPFAIR_GIT_COMMIT) s += " (commit " OPTIPFAIR_GIT_COMMIT ")";
  s += "\nbuild: " OPTIPFAIR_BUILD_TYPE ", " OPTIPFAIR_COMPILER ", C++20";
  if (std::string(OPTIPFAIR_SANITIZERS) == "ON") s += ", AddressSanitizer + UBSan";
  s += "\nmatrix kernels: " + std::string(matmul_isa_name(matmul_isa_best())) + " (best this CPU supports)";
  s += "\nthreads: " + std::to_string(omp_get_max_threads()) + " (OpenMP; --threads or OMP_NUM_THREADS)";
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spins = std::getenv("GOMP_SPINCOUNT");
  s += "\nidle threads: ";
  if (policy) s += "OMP_WAIT_POLICY=" + std::string(policy);
  else if (spins) s += "spin " + std::string(spins) + " rounds, then sleep (GOMP_SPINCOUNT)";
  else s += "libgomp's default";
  s += "\nmodel downloads: HTTPS (OpenSSL), Hugging Face cache";
  s += "\n" + mpi_build_text();
  return s;
}

}  // namespace optipfair::cli
