// Where each evaluation task's data comes from when it is not on disk: the Hugging Face dataset,
// configuration and split that lm-evaluation-harness's task definition names (read as JSON
// through the dataset viewer's rows API, since Debian has no Parquet reader), and how its rows
// become the file the task reads — the same file layout as a local --data-dir. WinoBias has no
// lm-eval task and no Hub copy in its original form, so its files come from the authors'
// repository with pinned checksums. The table is docs/evaluation.md's "Data from the Hub".
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace optipfair {

// How rows turn into a task's file.
enum class RowFormat {
  JsonLines,      // one row a line, as JSON (lambada_openai, boolq)
  ArcQuestion,    // {"question": {"stem", "choices": [{text, label}]}, "answerKey"} (ARC's original form)
  CrowsPairsCsv,  // CrowS-Pairs' CSV: sent_more, sent_less, stereo_antistereo, bias_type
  BbqCategories,  // one JSON-lines file per BBQ category, <file>/<category>.jsonl
  WikitextPages,  // the pages one after the other: the raw test file they were cut from
};

struct HubSplit {
  std::string dataset, config, split;
};

struct HubSource {
  HubSplit split;
  RowFormat format;
  std::string file;  // written under the data folder (BbqCategories: the folder)
};

struct RawSource {
  std::string path;    // under the raw-files endpoint (https://raw.githubusercontent.com)
  std::string file;    // written under the data folder
  std::string sha256;  // pinned: the file must be exactly this
};

struct TaskDataSource {
  std::string task;
  std::vector<std::string> files;  // what the task reads, relative to the data folder
  bool any_file = false;           // true: one of `files` is enough (bbq reads the categories present)
  std::vector<HubSource> hub;
  std::vector<RawSource> raw;
};

// The source of `task`, or null when it has none (an unknown name).
const TaskDataSource* task_data_source(const std::string& task);
const std::vector<TaskDataSource>& task_data_sources();

// The BBQ categories, as its files and the rows' "category" field name them.
const std::vector<std::string>& bbq_categories();

// The files `source` produces from all the rows of its split (each the "row" object of the rows
// API), keyed by path under the data folder. `features` is the API's feature list: ClassLabel
// integers are written as their names. Throws Error naming the dataset and row when a row is not
// what the task needs.
std::map<std::string, std::string> hub_rows_to_files(const HubSource& source, const std::vector<nlohmann::json>& rows,
                                                     const nlohmann::json& features);

}  // namespace optipfair
