// Lets whoever started long work watch it and stop it between steps: the web server streams
// progress to the page and cancels a job when the user asks. The work itself stays ignorant of
// who watches; a null observer costs one comparison per step.
#pragma once
#include <cstdint>
#include <string_view>

#include "util/error.h"

namespace optipfair {

// Thrown between steps when the observer asked to stop. It is an Error so that every caller that
// already turns Error into a message keeps working; the server tells it apart to report "cancelled".
class Cancelled : public Error {
 public:
  Cancelled() : Error("the work was cancelled") {}
};

class WorkObserver {
 public:
  virtual ~WorkObserver() = default;
  // `stage` names the step ("bias", "generate", ...); `done` of `total` units are finished.
  virtual void on_progress(std::string_view stage, int64_t done, int64_t total) = 0;
  virtual bool cancel_requested() const = 0;
};

// Reports the step and throws Cancelled when a stop was asked for; does nothing without an observer.
void work_step(WorkObserver* observer, std::string_view stage, int64_t done, int64_t total);

}  // namespace optipfair
