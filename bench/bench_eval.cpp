// Evaluation throughput: BoolQ requests/s (short prompts, two continuations sharing a context)
// and WikiText tokens/s (rolling windows, every position scored).
//
//   bench_eval [--preset smollm2-135m] [--threads 2] [--boolq 40] [--wikitext-docs 1] [--batch-size 8]
//   bench_eval --model-path M ...
//
// With --preset, a synthetic BF16 model of that shape is written once under --cache-dir (with the
// demo model's tokenizer, whose ids fit any preset's vocabulary) and then loaded from disk.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "eval/eval_tasks.h"
#include "eval/eval_text.h"
#include "eval/loglikelihood.h"
#include "eval/inference_timing.h"
#include "io/model_formats.h"
#include "model/model.h"
#include "model/synthetic.h"
#include "tokenizer/tokenizer.h"

using namespace optipfair;
namespace fs = std::filesystem;

static fs::path ensure_synthetic(const std::string& preset, const fs::path& cache_dir) {
  const fs::path dir = cache_dir / (preset + "-bf16-eval");
  if (fs::exists(dir / "config.json") && fs::exists(dir / "tokenizer.json")) return dir;
  std::fprintf(stderr, "writing synthetic %s to %s\n", preset.c_str(), dir.string().c_str());
  const Model m = make_synthetic_model(preset, DType::BF16, 1);
  SaveOptions o;
  o.overwrite = true;
  save_hf_model(m, dir, o);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fs::path(OPTIPFAIR_DEMO_MODEL) / f, dir / f, fs::copy_options::overwrite_existing);
  return dir;
}

int main(int argc, char** argv) {
  CLI::App app{"optipfair evaluation benchmark"};
  std::string preset = "smollm2-135m", model_path, cache_dir = "build/bench-models", data_dir;
  int threads = 2;
  int64_t boolq = 40, wikitext_docs = 1, batch = 8;
  app.add_option("--preset", preset, "synthetic model shape");
  app.add_option("--model-path", model_path, "benchmark this model instead of a synthetic one");
  app.add_option("--threads", threads);
  app.add_option("--boolq", boolq, "BoolQ items (two requests each)");
  app.add_option("--wikitext-docs", wikitext_docs, "WikiText articles");
  app.add_option("--batch-size", batch);
  app.add_option("--cache-dir", cache_dir, "where synthetic models are written");
  app.add_option("--data-dir", data_dir, "data folder (default: the shared data)");
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);

  const fs::path path = model_path.empty() ? ensure_synthetic(preset, cache_dir) : fs::path(model_path);
  const Model model = load_model(path.string());
  const auto tok = load_tokenizer(model.source);
  EvalOptions o;
  o.data_dir = data_dir.empty() ? default_eval_data_dir() : fs::path(data_dir);
  o.batch_size = batch;
  o.progress = false;
  o.bootstrap_iters = 0;

  o.tasks = {"boolq"};
  o.limit = boolq;
  auto t0 = std::chrono::steady_clock::now();
  const auto rb = run_eval_tasks(model, *tok, o);
  const double boolq_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double requests = 2.0 * static_cast<double>(rb[0].samples);

  o.tasks = {"wikitext"};
  o.limit = wikitext_docs;
  t0 = std::chrono::steady_clock::now();
  run_eval_tasks(model, *tok, o);
  const double wiki_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Tokens scored: each detokenized article's tokens are predicted once.
  int64_t wiki_tokens = 0;
  {
    std::ifstream in(o.data_dir / "wikitext-2-raw/wiki.test.raw", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto pages = wikitext_split_documents(ss.str());
    for (int64_t i = 0; i < std::min<int64_t>(wikitext_docs, static_cast<int64_t>(pages.size())); ++i)
      wiki_tokens += static_cast<int64_t>(encode_plain(*tok, wikitext_detokenize(pages[static_cast<size_t>(i)])).size());
  }
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
  return 0;
}
