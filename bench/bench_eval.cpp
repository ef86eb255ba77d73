// Evaluation throughput and the full task set on a random-weight model of a real shape.
//
//   bench_eval [--preset smollm2-135m] [--threads 2] [--boolq 40] [--wikitext-docs 1] [--batch-size 8]
//       BoolQ requests/s (short prompts, two continuations sharing a context) and WikiText
//       tokens/s (rolling windows, every position scored).
//   bench_eval --all-tasks [--preset llama-3.2-1b] [--layers 4] [--limit 200]
//       every task of `optipfair eval` with --limit, its table and timings, and a check that each
//       number sits where a random model must put it (exit status 1 when one does not).
//   bench_eval --model-path M ...   a real model instead of a synthetic one.
//   bench_eval --in-place ...       BF16 and block-type weights multiplied where they are stored, not packed into panels.
//   bench_eval --export-requests FILE
//       also writes every request of the throughput run with our log-probability, for
//       bench/lmeval_hflm_replay.py to replay lm-eval's request loop in PyTorch on the same model.
//
// A synthetic BF16 model of the preset's shape is written once under --cache-dir with a tokenizer
// whose ids fit its vocabulary: the demo model's (SmolLM2 shapes) or the real Llama-3 one from the
// shared assets (Llama-3.2 shapes).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "eval/eval_report.h"
#include "eval/eval_tasks.h"
#include "eval/eval_text.h"
#include "eval/inference_timing.h"
#include "eval/loglikelihood.h"
#include "io/load_model.h"
#include "model/model.h"
#include "model/panels.h"
#include "tokenizer/tokenizer.h"

#include "bench_support.h"
#include "util/build_paths.h"

using namespace optipfair;
using bench::seconds_since;
namespace fs = std::filesystem;

namespace {

fs::path tokenizer_source(const std::string& preset, const std::string& shared) {
  if (preset.rfind("llama-3", 0) == 0) return fs::path(shared) / "tokenizers/llama3";
  return fs::path(OPTIPFAIR_DEMO_MODEL);
}

fs::path synthetic_with_tokenizer(const std::string& preset, int64_t layers, const fs::path& cache_dir,
                                  const std::string& shared) {
  const fs::path dir = bench::synthetic_model_dir(cache_dir, preset, "bf16", layers);
  const fs::path from = tokenizer_source(preset, shared);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    if (!fs::exists(dir / f)) fs::copy_file(from / f, dir / f);
  return dir;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Tokens and bytes of the first `docs` WikiText articles, as the task scores them.
std::pair<int64_t, int64_t> wikitext_size(const Tokenizer& tok, const fs::path& data_dir, int64_t docs) {
  const auto pages = wikitext_split_documents(read_file(data_dir / "wikitext-2-raw/wiki.test.raw"));
  int64_t tokens = 0, bytes = 0;
  const size_t n = docs > 0 ? std::min<size_t>(static_cast<size_t>(docs), pages.size()) : pages.size();
  for (size_t i = 0; i < n; ++i) {
    tokens += static_cast<int64_t>(encode_plain(tok, wikitext_detokenize(pages[i])).size());
    bytes += static_cast<int64_t>(pages[i].size());
  }
  return {tokens, bytes};
}

const MetricValue* find(const std::vector<TaskResult>& rs, const std::string& task, const std::string& name) {
  for (const auto& r : rs)
    if (r.task == task)
      for (const auto& m : r.metrics)
        if (m.name == name) return &m;
  return nullptr;
}

// Where a model with random weights must land: it spreads probability evenly over the vocabulary
// (bits per byte = tokens * log2 V / bytes), never completes LAMBADA, and picks choices with no
// relation to the answer. Returns the number of checks that failed.
int check_near_chance(const std::vector<TaskResult>& rs, double chance_bpb) {
  int failed = 0;
  auto check = [&](const std::string& task, const std::string& metric, double lo, double hi) {
    if (std::none_of(rs.begin(), rs.end(), [&](const TaskResult& r) { return r.task == task; })) return;  // not run
    const MetricValue* m = find(rs, task, metric);
    const bool ok = m && m->value >= lo && m->value <= hi;
    std::printf("  %-5s %s %s = %.4f (expected %.3g .. %.3g)\n", ok ? "ok" : "FAIL", task.c_str(), metric.c_str(),
                m ? m->value : std::nan(""), lo, hi);
    failed += !ok;
  };
  check("wikitext", "bits_per_byte", 0.95 * chance_bpb, 1.05 * chance_bpb);
  check("lambada_openai", "acc", 0.0, 0.05);
  check("boolq", "acc", 0.15, 0.85);  // a random model may say "yes" (62 %) or "no" every time
  for (const char* arc : {"arc_easy", "arc_challenge"}) {
    check(arc, "acc", 0.1, 0.45);  // four choices (a few have three or five): 0.25
    check(arc, "acc_norm", 0.1, 0.45);
  }
  check("crows_pairs_english", "pct_stereotype", 0.3, 0.7);
  check("bbq", "acc", 0.15, 0.6);  // three choices
  check("winobias", "acc_pro", 0.3, 0.7);
  check("winobias", "acc_anti", 0.3, 0.7);
  return failed;
}

nlohmann::json log_json(const LoglikelihoodLog& log) {
  nlohmann::json requests = nlohmann::json::array();
  for (size_t i = 0; i < log.requests.size(); ++i)
    requests.push_back({{"context", log.requests[i].context},
                        {"continuation", log.requests[i].continuation},
                        {"logprob", log.results[i].logprob},
                        {"is_greedy", log.results[i].is_greedy}});
  return requests;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"optipfair evaluation benchmark"};
  std::string preset = "smollm2-135m", model_path, cache_dir = "build/bench-models", data_dir;
  std::string shared = OPTIPFAIR_SHARED_DEFAULT;
  int threads = 2;
  int64_t boolq = 40, wikitext_docs = 1, batch = 8, layers = 0, limit = 200, max_length = 0;
  std::string tasks = "all", export_requests;
  bool all_tasks = false, in_place = false;
  app.add_option("--preset", preset, "synthetic model shape");
  app.add_option("--layers", layers, "truncate the synthetic model to N layers (0: all)");
  app.add_option("--model-path", model_path, "benchmark this model instead of a synthetic one");
  app.add_option("--threads", threads);
  app.add_option("--boolq", boolq, "BoolQ items (two requests each)")->check(CLI::PositiveNumber);
  app.add_option("--wikitext-docs", wikitext_docs, "WikiText articles")->check(CLI::PositiveNumber);
  app.add_flag("--all-tasks", all_tasks, "run every task with --limit and check the numbers sit near chance");
  app.add_flag("--in-place", in_place, "multiply BF16 and block-type weights where they are stored instead of packing them into panels");
  app.add_option("--limit", limit, "items per task for --all-tasks")->check(CLI::PositiveNumber);
  app.add_option("--tasks", tasks, "comma-separated tasks for --all-tasks (default all)");
  app.add_option("--max-length", max_length, "context length (default: the model's, as lm-eval)");
  app.add_option("--batch-size", batch);
  app.add_option("--cache-dir", cache_dir, "where synthetic models are written");
  app.add_option("--data-dir", data_dir, "data folder (default: the shared data)");
  app.add_option("--shared", shared, "the shared assets folder (for the Llama-3 tokenizer)");
  app.add_option("--export-requests", export_requests,
                 "write the throughput run's requests and log-probabilities (JSON) for a replay elsewhere");
  CLI11_PARSE(app, argc, argv);
  if (const char* env = std::getenv("OPTIPFAIR_SHARED"); env && *env) shared = env;
  omp_set_num_threads(threads);

  try {
    const fs::path path =
        model_path.empty() ? synthetic_with_tokenizer(preset, layers, cache_dir, shared) : fs::path(model_path);
    Model model = load_model(path.string());
    if (!in_place) model_pack_panels(model);  // as the eval command does
    const auto tok = load_tokenizer(model.source);
    EvalOptions o;
    o.data_dir = data_dir.empty() ? fs::path(shared) / "data" : fs::path(data_dir);
    o.batch_size = batch;
    o.max_length = max_length;
    o.progress = false;

    if (all_tasks) {
      o.tasks.clear();
      for (size_t pos = 0; pos <= tasks.size();) {
        const size_t comma = std::min(tasks.find(',', pos), tasks.size());
        if (comma > pos) o.tasks.push_back(tasks.substr(pos, comma - pos));
        pos = comma + 1;
      }
      o.limit = limit;
      const EvalRun run = run_eval(model, *tok, path.string(), o);
      std::printf("%s (%lld parameters, %lld layers), --limit %lld, %d threads: %.1f s\n\n", path.c_str(),
                  static_cast<long long>(run.num_parameters), static_cast<long long>(model.config.num_hidden_layers),
                  static_cast<long long>(limit), threads, run.seconds);
      std::printf("%s\n", eval_table(run).c_str());
      std::printf("seconds per task:");
      std::string last;  // sub-tasks (crows_pairs_english_*) repeat their group's time
      for (const auto& r : run.results)
        if (last.empty() || r.task.rfind(last, 0) != 0) {
          std::printf(" %s %.1f", r.task.c_str(), r.seconds);
          last = r.task;
        }
      std::printf("\npeak RSS %.0f MiB\n\nnear chance:\n", bench::peak_rss_mib());
      const auto [tokens, bytes] = wikitext_size(*tok, o.data_dir, limit);
      const double chance_bpb =
          static_cast<double>(tokens) * std::log2(static_cast<double>(model.config.vocab_size)) / static_cast<double>(bytes);
      return check_near_chance(run.results, chance_bpb) == 0 ? 0 : 1;
    }

    o.bootstrap_iters = 0;
    LoglikelihoodLog boolq_log, wikitext_log;
    o.request_log = export_requests.empty() ? nullptr : &boolq_log;
    o.tasks = {"boolq"};
    o.limit = boolq;
    auto t0 = std::chrono::steady_clock::now();
    const auto rb = run_eval_tasks(model, *tok, o);
    const double boolq_s = seconds_since(t0);
    const double requests = 2.0 * static_cast<double>(rb[0].samples);

    o.tasks = {"wikitext"};
    o.limit = wikitext_docs;
    o.request_log = export_requests.empty() ? nullptr : &wikitext_log;
    t0 = std::chrono::steady_clock::now();
    run_eval_tasks(model, *tok, o);
    const double wiki_s = seconds_since(t0);
    const int64_t wiki_tokens = wikitext_size(*tok, o.data_dir, wikitext_docs).first;  // each predicted once
    nlohmann::json j = {{"model", path.string()},
                        {"threads", threads},
                        {"batch_size", batch},
                        {"boolq_items", rb[0].samples},
                        {"boolq_seconds", boolq_s},
                        {"boolq_requests_per_second", requests / boolq_s},
                        {"wikitext_docs", wikitext_docs},
                        {"wikitext_tokens", wiki_tokens},
                        {"wikitext_seconds", wiki_s},
                        {"wikitext_tokens_per_second", static_cast<double>(wiki_tokens) / wiki_s},
                        {"peak_rss_bytes", peak_rss_bytes()}};
    std::printf("%s\n", j.dump().c_str());
    if (!export_requests.empty()) {
      nlohmann::json e = j;
      e["max_length"] = effective_max_length(model, max_length);
      e["boolq"] = log_json(boolq_log);
      e["wikitext"] = log_json(wikitext_log);
      std::ofstream out(export_requests);
      out << e.dump() << "\n";
      if (!out) throw Error("cannot write " + export_requests);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_eval: %s\n", e.what());
    return 1;
  }
  return 0;
}
