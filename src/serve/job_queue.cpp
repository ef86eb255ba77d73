#include "serve/job_queue.h"

#include <algorithm>

namespace optipfair {

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
  }
  return "failed";
}

nlohmann::ordered_json JobSnapshot::to_json() const {
  nlohmann::ordered_json j;
  j["id"] = id;
  j["kind"] = kind;
  j["state"] = job_state_name(state);
  j["stage"] = stage;
  j["done"] = done;
  j["total"] = total;
  if (!error.empty()) j["error"] = error;
  j["cached"] = cached;
  j["version"] = version;
  j["seconds"] = seconds;
  return j;
}

Job::Job(std::string id, std::string kind, std::string cache_key) : cache_key_(std::move(cache_key)) {
  snap_.id = std::move(id);
  snap_.kind = std::move(kind);
}

void Job::on_progress(std::string_view stage, int64_t done, int64_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  snap_.stage = std::string(stage);
  snap_.done = done;
  snap_.total = total;
  ++snap_.version;
  changed_.notify_all();
}

bool Job::cancel_requested() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancel_;
}

JobSnapshot Job::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  JobSnapshot s = snap_;
  if (s.state == JobState::Running)
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return s;
}

std::shared_ptr<const JobOutput> Job::output() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return output_;
}

JobSnapshot Job::wait_change(uint64_t seen, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return snap_.version > seen; });
  lock.unlock();
  return snapshot();
}

void Job::set_state(JobState state, std::string error) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (state == JobState::Running) start_ = now;
  if (snap_.state == JobState::Running) snap_.seconds = std::chrono::duration<double>(now - start_).count();
  snap_.state = state;
  snap_.error = std::move(error);
  ++snap_.version;
  changed_.notify_all();
}

JobQueue::JobQueue(int workers, size_t max_jobs, size_t max_cached)
    : max_jobs_(std::max<size_t>(1, max_jobs)), max_cached_(max_cached) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { worker_loop(); });
}

JobQueue::~JobQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) {
      std::lock_guard<std::mutex> job_lock(job->mutex_);
      job->cancel_ = true;
    }
  }
  queued_.notify_all();
  for (std::thread& t : workers_) t.join();
}

std::shared_ptr<Job> JobQueue::submit(const std::string& kind, const std::string& cache_key, JobWork work) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto job = std::make_shared<Job>("job" + std::to_string(next_id_++), kind, cache_key);
  jobs_.emplace(job->snap_.id, job);
  job_order_.push_back(job->snap_.id);
  while (job_order_.size() > max_jobs_) {
    auto old = jobs_.find(job_order_.front());
    // A queued or running job is never forgotten: someone is waiting for it.
    const JobState s = old->second->snapshot().state;
    if (s == JobState::Queued || s == JobState::Running) break;
    jobs_.erase(old);
    job_order_.pop_front();
  }
  auto hit = cache_key.empty() ? cache_.end() : cache_.find(cache_key);
  if (hit != cache_.end()) {
    std::lock_guard<std::mutex> job_lock(job->mutex_);
    job->output_ = hit->second;
    job->snap_.state = JobState::Done;
    job->snap_.cached = true;
    job->snap_.version = 1;
    cache_order_.remove(cache_key);
    cache_order_.push_front(cache_key);
    return job;
  }
  queue_.emplace_back(job, std::move(work));
  queued_.notify_one();
  return job;
}

std::shared_ptr<Job> JobQueue::find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

bool JobQueue::cancel(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  const std::shared_ptr<Job> job = it->second;
  auto queued = std::find_if(queue_.begin(), queue_.end(), [&](const auto& q) { return q.first == job; });
  if (queued != queue_.end()) {
    queue_.erase(queued);
    job->set_state(JobState::Cancelled);
    return true;
  }
  std::lock_guard<std::mutex> job_lock(job->mutex_);
  job->cancel_ = true;
  return true;
}

void JobQueue::worker_loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    JobWork work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front().first);
      work = std::move(queue_.front().second);
      queue_.pop_front();
    }
    job->set_state(JobState::Running);
    std::shared_ptr<const JobOutput> out;
    try {
      out = work(*job);
    } catch (const Cancelled&) {
      job->set_state(JobState::Cancelled);
      continue;
    } catch (const std::exception& e) {
      job->set_state(JobState::Failed, e.what());
      continue;
    }
    {
      std::lock_guard<std::mutex> job_lock(job->mutex_);
      job->output_ = out;
    }
    if (!job->cache_key_.empty() && max_cached_ > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cache_[job->cache_key_] = out;
      cache_order_.remove(job->cache_key_);
      cache_order_.push_front(job->cache_key_);
      while (cache_order_.size() > max_cached_) {
        cache_.erase(cache_order_.back());
        cache_order_.pop_back();
      }
    }
    job->set_state(JobState::Done);
  }
}

}  // namespace optipfair
