// sweep.jsonl, the sweep's journal, read back when a sweep resumes: a settings line, then one row a
// line. Every row read is written again and read back, and must keep its key (a row that loads
// but does not survive its own writer would be measured twice, or mixed with another).
#include "pipeline/sweep.h"
#include "pipeline/sweep_journal.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  // The settings the seeds were written with (fuzz/corpus/fuzz_sweep_journal).
  static const nlohmann::ordered_json settings = {{"model", "m"}, {"folds", 2}};
  OPTIPFAIR_FUZZ_BODY({
    const auto path = fuzz::write_input(data, size, "sweep.jsonl");
    const SweepJournal journal(path, settings, 4);
    for (const SweepRow& row : journal.rows()) {
      const SweepRow again = sweep_row_from_json(nlohmann::json::parse(sweep_row_json(row).dump()), 4);
      if (again.config.key() != row.config.key() || again.fold != row.fold) fuzz::fail("a row changed on its round trip");
      volatile double sink = row.used_reduction() + row.held_out_reduction() + row.capability_retained();
      (void)sink;
    }
  })
}
