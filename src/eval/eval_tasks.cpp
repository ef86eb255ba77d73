// The task registry: every task by name, in the order `--tasks all` runs them, and the loop that
// runs the chosen ones. The tasks themselves are in eval_tasks_{lm,mc,bias}.cpp.
#include "eval/eval_tasks.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "eval/eval_data_fetch.h"
#include "eval/eval_task_families.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace optipfair {

namespace {

namespace fs = std::filesystem;

struct TaskEntry {
  const char* name;
  std::vector<TaskResult> (*run)(const detail::TaskContext&);
};

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> tasks = {
      {"wikitext", detail::run_wikitext},
      {"lambada_openai", detail::run_lambada_openai},
      {"boolq", detail::run_boolq},
      {"arc_easy", detail::run_arc_easy},
      {"arc_challenge", detail::run_arc_challenge},
      {"crows_pairs_english", detail::run_crows_pairs_english},
      {"bbq", detail::run_bbq},
      {"winobias", detail::run_winobias},
  };
  return tasks;
}

}  // namespace

const std::vector<std::string>& eval_task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& t : task_registry()) n.push_back(t.name);
    return n;
  }();
  return names;
}

fs::path default_eval_data_dir() {
  if (const char* env = std::getenv("OPTIPFAIR_SHARED"); env && *env) return fs::path(env) / "data";
  return fs::path(OPTIPFAIR_SHARED_DEFAULT) / "data";
}

std::vector<std::string> resolve_eval_tasks(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  const auto& known = eval_task_names();
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (std::string n : names) {
    if (n == "crows_pairs") n = "crows_pairs_english";  // the group name lm-eval users type
    if (n == "all") {
      for (const auto& k : known) add(k);
    } else if (std::find(known.begin(), known.end(), n) != known.end()) {
      add(n);
    } else {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw Error("unknown task '" + n + "'; the known tasks are: " + list + " (or all)");
    }
  }
  if (out.empty()) throw Error("no task given; the known tasks are listed by --help");
  return out;
}

std::vector<TaskResult> run_eval_tasks(const Model& model, const Tokenizer& tokenizer, const EvalOptions& options) {
  EvalOptions o = options;
  if (o.data_dir.empty()) o.data_dir = default_eval_data_dir();
  if (o.num_fewshot < 0) throw Error("--num-fewshot cannot be negative");
  const std::vector<std::string> tasks = resolve_eval_tasks(o.tasks);
  std::vector<TaskResult> results;
  for (const auto& t : tasks) {
    const auto entry = std::find_if(task_registry().begin(), task_registry().end(),
                                    [&](const TaskEntry& e) { return t == e.name; });
    EvalOptions task_options = o;
    if (o.fetch_missing_data) {
      EvalDataFetchOptions fetch;
      fetch.progress = o.progress;
      task_options.data_dir = eval_data_for_task(t, o.data_dir, fetch);
    }
    const detail::TaskContext tc{model, tokenizer, task_options};
    const auto start = std::chrono::steady_clock::now();
    std::vector<TaskResult> got = entry->run(tc);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto& g : got) {
      if (g.skipped > 0)
        std::fprintf(stderr, "optipfair: warning: %s: %lld malformed or unusable items skipped (first: %s)\n",
                     g.task.c_str(), static_cast<long long>(g.skipped), g.skipped_detail.c_str());
      g.seconds = seconds;
      results.push_back(std::move(g));
    }
  }
  return results;
}

}  // namespace optipfair
