#include "util/progress.h"

#include <atomic>
#include <cstdio>
#include <unistd.h>

namespace optipfair {

namespace {
std::atomic<bool> g_quiet{false};
}

void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

Progress::Progress(std::string label, int64_t total, bool enabled, WorkObserver* observer)
    : label_(std::move(label)),
      total_(total),
      active_(enabled && !g_quiet && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      observer_(observer) {
  draw(true);
  work_step(observer_, label_, 0, total_);
}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) { set(done_ + n); }

void Progress::set(int64_t done) {
  done_ = done;
  draw(false);
  work_step(observer_, label_, done_, total_);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!active_) return;
  draw(true);
  std::fputc('\n', stderr);
}

void Progress::draw(bool force) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redrawing more than ~10 times a second only costs time.
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(frac * kWidth + 0.5);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%-24s [%s] %lld/%lld %5.1fs", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), elapsed);
  std::fflush(stderr);
}

}  // namespace optipfair
