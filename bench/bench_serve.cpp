// `optipfair serve`: time from "analyse" (the POST a page sends) to the three figures in hand (mean
// difference, heatmap, PCA as PNG), for one pair, through real HTTP on loopback. Cold: a fresh
// server, so the time includes loading the model (its files already in the OS page cache after the
// first round). Warm: the model resident, a pair not asked before. Cached: the same request again.
// Models: the bundled demo, and a synthetic Llama-3.2-1B-shaped BF16 model truncated to 4 layers
// with the real Llama-3 tokenizer.
//
//   bench_serve [--rounds 3] [--threads 2] [--skip-1b]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "serve/server.h"
#include "util/build_paths.h"

#include "bench_support.h"

using namespace optipfair;
using bench::seconds_since;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kPrompt1 = "A Black man walked at night through the neighborhood. The police officer thought he";
const char* kPrompt2 = "A white man walked at night through the neighborhood. The police officer thought he";

struct Running {
  Server server;
  std::thread thread;
  int port = 0;
  explicit Running(ServeOptions o) : server(std::move(o)) {
    port = server.bind();
    thread = std::thread([this] { server.run(); });
  }
  ~Running() {
    server.stop();
    thread.join();
  }
};

// POST /api/analyze, follow the job, fetch the three figures; returns the seconds it took.
double analyse_to_figures(int port, const std::string& model, const std::string& word) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(600, 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::string p1 = kPrompt1, p2 = kPrompt2;
  p1.replace(p1.find("night"), 5, word);
  p2.replace(p2.find("night"), 5, word);
  const json body = {{"model", model}, {"pairs", json::array({{{"prompt1", p1}, {"prompt2", p2}}})}};
  auto r = c.Post("/api/analyze", body.dump(), "application/json");
  if (!r || r->status != 202) throw Error("analyse request failed: " + (r ? r->body : httplib::to_string(r.error())));
  const std::string id = json::parse(r->body)["id"];
  for (;;) {
    auto s = c.Get(("/api/jobs/" + id).c_str());
    const std::string state = json::parse(s->body)["state"];
    if (state == "done") break;
    if (state != "queued" && state != "running") throw Error("the job ended " + state + ": " + s->body);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (const char* f : {"mean_diff.png?component=mlp_output", "heatmap.png?layer=0", "pca.png?layer=0"}) {
    auto img = c.Get(("/api/jobs/" + id + "/figure/" + f).c_str());
    if (!img || img->status != 200) throw Error(std::string("figure ") + f + " failed");
  }
  return seconds_since(t0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void bench_model(const std::string& label, const ServeOptions& base, const std::string& model, int rounds) {
  std::vector<double> cold, warm, cached;
  const char* words[] = {"dawn", "noon", "dusk", "midnight", "sunrise", "sunset", "evening", "morning"};
  for (int i = 0; i < rounds; ++i) {
    Running running(base);
    cold.push_back(analyse_to_figures(running.port, model, "night"));
    warm.push_back(analyse_to_figures(running.port, model, words[i % 8]));
    cached.push_back(analyse_to_figures(running.port, model, words[i % 8]));
  }
  std::printf("%-34s cold %7.3f s   warm %7.3f s   cached %7.4f s   (medians of %d)\n", label.c_str(), median(cold),
              median(warm), median(cached), rounds);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"optipfair serve: analyse-to-figures time"};
  int rounds = 3, threads = 2;
  bool skip_1b = false;
  std::string cache_dir = "build/bench-models", shared = OPTIPFAIR_SHARED_DEFAULT;
  app.add_option("--rounds", rounds);
  app.add_option("--threads", threads);
  app.add_option("--cache-dir", cache_dir);
  app.add_option("--shared", shared, "the shared assets folder (for the Llama-3 tokenizer)");
  app.add_flag("--skip-1b", skip_1b, "only the demo model");
  CLI11_PARSE(app, argc, argv);
  if (const char* env = std::getenv("OPTIPFAIR_SHARED"); env && *env) shared = env;
  omp_set_num_threads(threads);
  try {
    const fs::path scratch = fs::path(cache_dir) / "serve-bench";
    ServeOptions o;
    o.port = 0;
    o.hf_cache = false;
    o.output_dir = scratch / "out";
    std::printf("one pair (police, 16 tokens a prompt), %d threads, time from POST /api/analyze to 3 PNGs received\n", threads);
    bench_model("demo (bundled, 7M)", o, "demo", rounds);
    if (!skip_1b) {
      // The synthetic folder plus the Llama-3 tokenizer, as a models folder the server scans.
      const fs::path model = bench::synthetic_model_dir(cache_dir, "llama-3.2-1b", "bf16", 4);
      const fs::path root = scratch / "models", dir = root / "llama1b-L4";
      fs::create_directories(dir);
      for (const auto& e : fs::directory_iterator(model))
        if (!fs::exists(dir / e.path().filename())) fs::create_symlink(fs::absolute(e.path()), dir / e.path().filename());
      for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
        if (!fs::exists(dir / f)) fs::copy_file(fs::path(shared) / "tokenizers/llama3" / f, dir / f);
      o.models_dirs = {root};
      bench_model("Llama-3.2-1B shape, 4 layers, BF16", o, "models/llama1b-L4", rounds);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
