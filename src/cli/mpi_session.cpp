#include "cli/mpi_session.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "util/error.h"

#ifdef OPTIPFAIR_WITH_MPI
#include <mpi.h>
#endif

namespace optipfair::cli {

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n > 0 && n < 1 << 20 ? static_cast<int>(n) : fallback;
}

#ifndef OPTIPFAIR_WITH_MPI
// The launcher's world size from the environment (OpenMPI, then PMI/PMIx as Slurm sets them).
int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const int n = env_int(name, 0); n > 0) return n;
  return 1;
}
#else
constexpr int kRowTag = 17;

std::string bcast(const std::string& text) {
  unsigned long long n = text.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = text;
  out.resize(n);
  if (n > 0) MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

void send_row(const std::string& row) {
  if (row.size() > static_cast<size_t>(1) << 30) throw Error("a sweep row is too large to send to rank 0");
  MPI_Send(row.data(), static_cast<int>(row.size()), MPI_CHAR, 0, kRowTag, MPI_COMM_WORLD);
}

std::vector<std::string> all_gather(const std::string& mine) {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (mine.size() > static_cast<size_t>(1) << 30) throw Error("a rank's evaluation results are too large to gather");
  int n = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<size_t>(size)), offsets(static_cast<size_t>(size));
  MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int64_t total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[static_cast<size_t>(r)] = static_cast<int>(total);
    total += counts[static_cast<size_t>(r)];
  }
  if (total > INT32_MAX) throw Error("the ranks' evaluation results are too large to gather");
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Allgatherv(mine.data(), n, MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r)
    out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]), static_cast<size_t>(counts[static_cast<size_t>(r)])));
  return out;
}

std::optional<std::string> receive_row(bool wait) {
  MPI_Status status;
  int flag = 0;
  // Polled with short sleeps rather than MPI_Probe, which spins: a waiting rank 0 must not take a
  // core from the ranks it waits for when they share a machine.
  for (;;) {
    MPI_Iprobe(MPI_ANY_SOURCE, kRowTag, MPI_COMM_WORLD, &flag, &status);
    if (flag) break;
    if (!wait) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int n = 0;
  MPI_Get_count(&status, MPI_CHAR, &n);
  std::string row(static_cast<size_t>(n), '\0');
  MPI_Recv(row.data(), n, MPI_CHAR, status.MPI_SOURCE, kRowTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return row;
}
#endif

}  // namespace

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

std::string mpi_build_text() {
#ifdef OPTIPFAIR_WITH_MPI
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return "MPI: built (MPI " + std::to_string(major) + "." + std::to_string(minor) +
         "; mpirun -np N optipfair sweep|eval ...)";
#else
  return "MPI: not built (install libopenmpi-dev and rebuild for mpirun -np N optipfair sweep|eval)";
#endif
}

MpiSession::MpiSession() {
#ifdef OPTIPFAIR_WITH_MPI
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  initialised_ = true;
  if (provided < MPI_THREAD_SERIALIZED) throw Error("this MPI library does not allow threads to take turns on it");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  local_size_ = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1));
  transport_.rank = rank_;
  transport_.size = size_;
  transport_.broadcast = bcast;
  transport_.send = send_row;
  transport_.receive = receive_row;
  sharing_.rank = rank_;
  sharing_.size = size_;
  sharing_.all_gather = all_gather;
#else
  if (launcher_size() > 1)
    throw Error("this optipfair was built without MPI, so " + std::to_string(launcher_size()) +
                " ranks would each run the whole command into the same files; install libopenmpi-dev, rebuild, or "
                "run without mpirun");
#endif
}

MpiSession::~MpiSession() {
#ifdef OPTIPFAIR_WITH_MPI
  if (initialised_) MPI_Finalize();
#endif
}

void MpiSession::abort(int code) const {
#ifdef OPTIPFAIR_WITH_MPI
  if (initialised_ && size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace optipfair::cli
