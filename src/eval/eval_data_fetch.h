// Evaluation data fetched the way lm-evaluation-harness gets it, for a user who has no local copy:
// from the Hugging Face Hub (through the dataset viewer's JSON rows API) into a cache folder, once.
// Downloads resume where they stopped; the SHA-256 of every file is recorded when it is written and
// checked each time it is used, so a damaged file is noticed and fetched again. HF_HUB_OFFLINE=1
// (or `offline`) uses the cache only; HF_TOKEN is sent for gated data sets.
#pragma once
#include <filesystem>
#include <string>

#include "eval/eval_data_sources.h"

namespace optipfair {

struct EvalDataFetchOptions {
  std::filesystem::path cache_dir;  // empty: eval_data_cache_dir()
  std::string rows_endpoint;        // empty: $OPTIPFAIR_DATASETS_SERVER, else https://datasets-server.huggingface.co
  std::string raw_endpoint;         // empty: $OPTIPFAIR_RAW_FILES, else https://raw.githubusercontent.com
  bool offline = false;             // also when HF_HUB_OFFLINE is true
  int retry_delay_ms = 2000;        // first wait before asking again after a 429 or 5xx answer (doubles; 4 tries)
  bool progress = true;
};

// $OPTIPFAIR_CACHE/eval-data, else $XDG_CACHE_HOME/optipfair/eval-data, else ~/.cache/optipfair/eval-data.
std::filesystem::path eval_data_cache_dir();

// True when `dir` holds what `source`'s task reads (any one file for bbq, all of them otherwise).
bool eval_data_present(const TaskDataSource& source, const std::filesystem::path& dir);

// The folder to read `task`'s data from: `data_dir` when the files are there; else the cache's data
// folder, fetched (or, when a checksum no longer matches, fetched again) first. Throws Error naming
// the task, the data set and the reason when that cannot be done (offline, unreachable, refused).
std::filesystem::path eval_data_for_task(const std::string& task, const std::filesystem::path& data_dir,
                                         const EvalDataFetchOptions& options = {});

}  // namespace optipfair
