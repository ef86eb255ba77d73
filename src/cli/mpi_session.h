// The MPI transports: when `optipfair sweep` is started by mpirun, each rank measures its share of
// the grid and rank 0 journals every row and writes the outputs (pipeline/sweep.h,
// SweepTransport); under `optipfair eval`, each rank scores a share of every task's requests and
// all get every result (eval/loglikelihood.h, RequestSharing). Built when CMake finds MPI (OPTIPFAIR_WITH_MPI); a binary built without it
// refuses to run under mpirun with more than one rank rather than let every rank run the whole
// sweep into the same files.
#pragma once
#include <memory>
#include <string>

#include "eval/loglikelihood.h"
#include "pipeline/sweep.h"

namespace optipfair::cli {

// Whether this process was started by an MPI launcher (mpirun, srun), from its environment.
bool launched_by_mpi();

// Whether this binary has the MPI transport ("MPI: OpenMPI 4.1" or "MPI: not built").
std::string mpi_build_text();

class MpiSession {
 public:
  // Initialises MPI (threads serialised: the sweep's workers take turns on the transport). Throws
  // Error when the binary was built without MPI and the launcher started more than one rank.
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ranks of this job on this machine (to share the cores between them).
  int local_size() const { return local_size_; }
  const SweepTransport& transport() const { return transport_; }
  // Evaluation requests shared among the ranks (eval/loglikelihood.h).
  const RequestSharing& request_sharing() const { return sharing_; }
  // Ends every rank of the job (after a rank's error has been printed), so none waits forever.
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool initialised_ = false;
  SweepTransport transport_;
  RequestSharing sharing_;
};

}  // namespace optipfair::cli
