// Progress hands every step to an observer, and an observer's cancel stops the work at the next step.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/progress.h"
#include "util/work_observer.h"

namespace optipfair {
namespace {

struct Recorder : WorkObserver {
  std::vector<std::string> steps;
  int cancel_after = -1;  // steps heard before asking to stop; -1: never
  void on_progress(std::string_view stage, int64_t done, int64_t total) override {
    steps.push_back(std::string(stage) + " " + std::to_string(done) + "/" + std::to_string(total));
  }
  bool cancel_requested() const override { return cancel_after >= 0 && static_cast<int>(steps.size()) > cancel_after; }
};

TEST(WorkObserver, ProgressReportsEveryStepWhateverTheTerminal) {
  Recorder r;
  {
    Progress p("bias", 3, /*enabled=*/false, &r);
    p.advance(1);
    p.advance(2);
  }
  EXPECT_EQ(r.steps, (std::vector<std::string>{"bias 0/3", "bias 1/3", "bias 3/3"}));
}

TEST(WorkObserver, ACancelStopsAtTheNextStep) {
  Recorder r;
  r.cancel_after = 2;
  Progress p("bias", 5, false, &r);
  p.advance(1);
  EXPECT_THROW(p.advance(1), Cancelled);
  EXPECT_EQ(r.steps.size(), 3u);
  // Cancelled is an Error, so callers that turn an Error into a message keep working.
  try {
    work_step(&r, "prune", 0, 1);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the work was cancelled");
  }
}

TEST(WorkObserver, WithoutAnObserverNothingHappens) {
  EXPECT_NO_THROW(work_step(nullptr, "x", 0, 1));
  Progress p("bias", 2, false, nullptr);
  EXPECT_NO_THROW(p.advance(2));
}

}  // namespace
}  // namespace optipfair
