// Pre-tokenizer regex speed in the three ways a pattern can reach PCRE2: as written (PCRE2's own
// Unicode classes, which differ from Hugging Face's; what we did before regex_translate), with this
// PCRE2's escapes plus corrections (what Regex does when it knows the PCRE2 release), and with every
// class spelled out as ranges (any other release). Rounds alternate; the best of each is printed.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "tokenizer/regex.h"
#include "tokenizer/regex_translate.h"
#include "tokenizer/utf8.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace {

const char* kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// PCRE2 on the pattern as written, the way src/tokenizer/regex.cpp matched before the rewrite.
size_t split_untranslated(const std::string& pattern, const std::string& text) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                   &error, &offset, nullptr);
  if (!code) throw optipfair::Error("pattern does not compile");
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  size_t pieces = 0, pos = 0;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  while (pos <= text.size()) {
    if (pcre2_jit_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, data, nullptr) < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    if (ov[1] > ov[0]) {
      ++pieces;
      pos = ov[1];
    } else {
      if (ov[0] >= text.size()) break;
      pos = ov[0] + optipfair::utf8_len(static_cast<unsigned char>(text[ov[0]]));
    }
  }
  pcre2_match_data_free(data);
  pcre2_code_free(code);
  return pieces;
}

// Text where most characters are outside Latin-1, which is where the forms differ: "cjk" (random
// CJK ideographs and kana with 。 and spaces) or "scripts" (words of eight scripts and emoji).
std::string synthetic_text(const std::string& kind) {
  uint64_t state = 1;
  auto next = [&state](uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  std::string text;
  if (kind == "cjk") {
    for (int i = 0; i < 300000; ++i) {
      const uint64_t pick = next(4);
      optipfair::utf8_append(text, pick == 0   ? 0x4E00 + static_cast<uint32_t>(next(0x5200))
                                   : pick == 1 ? 0x3040 + static_cast<uint32_t>(next(0xC0))
                                   : pick == 2 ? 0x3002
                                               : 0x20);
    }
  } else if (kind == "scripts") {
    const char* words[] = {"Привет мир ", "नमस्ते दुनिया ", "مرحبا بالعالم ", "hello world ", "안녕하세요 ",
                           "Ελληνικά ", "😀👍 ", "ǅemal Müller "};
    for (int i = 0; i < 40000; ++i) text += words[next(8)];
  } else {
    throw optipfair::Error("--synthetic takes cjk or scripts");
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_tokenizer_regex: pre-tokenizer regex speed, as written vs translated"};
  const char* env = std::getenv("OPTIPFAIR_SHARED");
  std::string text_path = std::string(env && *env ? env : OPTIPFAIR_SHARED_DEFAULT) + "/data/wikitext-2-raw/wiki.test.raw";
  std::string pattern = kLlama3;
  int rounds = 5;
  std::string synthetic;
  app.add_option("--text", text_path, "UTF-8 text file to split");
  app.add_option("--pattern", pattern, "pattern in Hugging Face (Oniguruma) syntax; default Llama-3's");
  app.add_option("--rounds", rounds, "alternating rounds (best of each reported)");
  app.add_option("--synthetic", synthetic, "split generated text instead of --text: cjk or scripts");
  CLI11_PARSE(app, argc, argv);
  try {
    std::string text;
    if (synthetic.empty()) {
      std::ifstream in(text_path, std::ios::binary);
      if (!in) throw optipfair::Error("cannot open " + text_path);
      std::stringstream ss;
      ss << in.rdbuf();
      text = optipfair::utf8_replace_invalid(ss.str());
    } else {
      text = synthetic_text(synthetic);
      text_path = "generated " + synthetic + " text";
    }
    const optipfair::Regex fast(pattern);
    const optipfair::Regex spelled(optipfair::regex_translate_for_pcre2(pattern, "0.0"));
    double best[3] = {1e30, 1e30, 1e30};
    size_t pieces[3] = {0, 0, 0};
    for (int r = 0; r < std::max(1, rounds); ++r) {
      for (int form = 0; form < 3; ++form) {
        const auto t0 = std::chrono::steady_clock::now();
        pieces[form] = form == 0 ? split_untranslated(pattern, text) : (form == 1 ? fast : spelled).find_all(text).size();
        best[form] = std::min(best[form], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    const char* names[3] = {"as written (PCRE2's classes)", "translated, PCRE2 escapes + fixes", "translated, spelled out"};
    std::printf("text %s (%zu bytes)\n", text_path.c_str(), text.size());
    for (int form = 0; form < 3; ++form)
      std::printf("%-36s %8.1f MB/s  %9zu pieces  %.2fx\n", names[form], text.size() / best[form] / 1e6, pieces[form],
                  best[0] / best[form]);
  } catch (const optipfair::Error& e) {
    std::fprintf(stderr, "bench_tokenizer_regex: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
