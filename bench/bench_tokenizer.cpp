// Tokenizer speed: load a tokenizer and encode a whole file (default: WikiText-2 test split with
// the Llama-3 tokenizer.json), printing load time, encode time and tokens/s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "tokenizer/tokenizer.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace {

std::string shared_dir() {
  const char* env = std::getenv("OPTIPFAIR_SHARED");
  return env && *env ? env : OPTIPFAIR_SHARED_DEFAULT;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_tokenizer: tokenizer load and encode speed"};
  std::string tokenizer_path = shared_dir() + "/tokenizers/llama3/tokenizer.json";
  std::string text_path = shared_dir() + "/data/wikitext-2-raw/wiki.test.raw";
  int repeats = 3;
  app.add_option("--tokenizer", tokenizer_path, "tokenizer file or model folder");
  app.add_option("--text", text_path, "text file to encode");
  app.add_option("--repeats", repeats, "encode runs (the best is reported; the first also fills the word cache)");
  CLI11_PARSE(app, argc, argv);
  try {
    std::ifstream in(text_path, std::ios::binary);
    if (!in) throw optipfair::Error("cannot open " + text_path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();

    auto t0 = std::chrono::steady_clock::now();
    auto tok = optipfair::load_tokenizer(tokenizer_path);
    const double load_s = seconds_since(t0);

    double first_s = 0, best_s = 1e30;
    size_t n_tokens = 0;
    for (int r = 0; r < std::max(1, repeats); ++r) {
      t0 = std::chrono::steady_clock::now();
      auto ids = tok->encode(text, {false, false});
      double s = seconds_since(t0);
      if (r == 0) first_s = s;
      best_s = std::min(best_s, s);
      n_tokens = ids.size();
    }
    std::printf("tokenizer   %s\n            %s\n", tokenizer_path.c_str(), tok->description().c_str());
    std::printf("text        %s (%zu bytes)\n", text_path.c_str(), text.size());
    std::printf("load        %.3f s\n", load_s);
    std::printf("encode      %.3f s first run (cold word cache), %.3f s best of %d\n", first_s, best_s, std::max(1, repeats));
    std::printf("tokens      %zu\n", n_tokens);
    std::printf("tokens/s    %.0f (first run), %.0f (best)\n", n_tokens / first_s, n_tokens / best_s);
  } catch (const optipfair::Error& e) {
    std::fprintf(stderr, "bench_tokenizer: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
