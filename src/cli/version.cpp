// `optipfair --version`: the version and the options this binary was built with.
#include <omp.h>

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
  s += "\nmodel downloads: HTTPS (OpenSSL), Hugging Face cache";
  s += "\n" + mpi_build_text();
  return s;
}

}  // namespace optipfair::cli
