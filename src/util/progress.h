// A progress bar on stderr for work that takes more than a moment. It draws only when stderr is a
// terminal and the user did not ask for --quiet, so logs and pipes stay clean. An observer, when
// given, hears every step whatever the terminal (and may stop the work: see work_observer.h).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "util/work_observer.h"

namespace optipfair {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool enabled = true, WorkObserver* observer = nullptr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  void set(int64_t done);
  // Draws the final state and ends the line (also done by the destructor).
  void finish();

  // Globally silences every bar (the CLI's --quiet).
  static void set_quiet(bool quiet);

 private:
  void draw(bool force);
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool active_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  WorkObserver* observer_ = nullptr;
};

}  // namespace optipfair
