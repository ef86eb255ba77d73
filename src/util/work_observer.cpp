#include "util/work_observer.h"

namespace optipfair {

void work_step(WorkObserver* observer, std::string_view stage, int64_t done, int64_t total) {
  if (!observer) return;
  observer->on_progress(stage, done, total);
  if (observer->cancel_requested()) throw Cancelled();
}

}  // namespace optipfair
