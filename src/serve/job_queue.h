// Long work (an analysis, a fairness prune, a comparison) runs as a job: queued, run by a fixed
// number of workers, watched through its progress (the page streams it as server-sent events),
// cancelled between steps on request. Finished outputs are kept in a small cache keyed by what
// produced them, so asking again for the same model, pairs and options answers at once.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/image_format.h"
#include "util/work_observer.h"

namespace optipfair {

enum class JobState { Queued, Running, Done, Failed, Cancelled };
const char* job_state_name(JobState state);

// What a finished job holds: its JSON result and the figures it can draw on request.
class JobOutput {
 public:
  virtual ~JobOutput() = default;
  virtual nlohmann::ordered_json json() const = 0;
  // The figure `name` with `params` (e.g. layer, component, pair) as PNG or SVG bytes; throws Error
  // for a name or parameter this output does not have.
  virtual std::string figure(const std::string& name, const std::map<std::string, std::string>& params,
                             ImageFormat format) const = 0;
};

struct JobSnapshot {
  std::string id, kind;
  JobState state = JobState::Queued;
  std::string stage;            // the step running now ("load", "bias", "generate", ...)
  int64_t done = 0, total = 0;  // of that step
  std::string error;            // Failed: the one-sentence reason
  bool cached = false;          // answered from the cache without running
  uint64_t version = 0;         // grows with every change, for watchers
  double seconds = 0;           // running time so far (or in all, when finished)
  nlohmann::ordered_json to_json() const;
};

class Job;
using JobWork = std::function<std::shared_ptr<const JobOutput>(Job&)>;

class Job : public WorkObserver {
 public:
  Job(std::string id, std::string kind, std::string cache_key);
  void on_progress(std::string_view stage, int64_t done, int64_t total) override;
  bool cancel_requested() const override;

  JobSnapshot snapshot() const;
  std::shared_ptr<const JobOutput> output() const;
  // Waits until the job changes past `seen_version` or `timeout_ms` passes; returns the snapshot.
  JobSnapshot wait_change(uint64_t seen_version, int timeout_ms) const;

 private:
  friend class JobQueue;
  void set_state(JobState state, std::string error = {});
  const std::string cache_key_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  JobSnapshot snap_;
  std::shared_ptr<const JobOutput> output_;
  bool cancel_ = false;
  std::chrono::steady_clock::time_point start_{};
};

class JobQueue {
 public:
  // `workers` threads run jobs; `max_jobs` finished jobs are remembered (oldest forgotten first);
  // `max_cached` outputs are kept for reuse.
  JobQueue(int workers, size_t max_jobs = 200, size_t max_cached = 32);
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Queues `work`, or answers from the cache when `cache_key` is non-empty and was computed before.
  std::shared_ptr<Job> submit(const std::string& kind, const std::string& cache_key, JobWork work);
  std::shared_ptr<Job> find(const std::string& id) const;
  // Queued: cancelled at once; running: asked to stop at its next step. False for an unknown id.
  bool cancel(const std::string& id);

 private:
  void worker_loop();
  mutable std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::pair<std::shared_ptr<Job>, JobWork>> queue_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::list<std::string> job_order_;
  std::map<std::string, std::shared_ptr<const JobOutput>> cache_;
  std::list<std::string> cache_order_;
  size_t max_jobs_, max_cached_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace optipfair
