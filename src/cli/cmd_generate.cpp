// optipfair generate: continue prompts with greedy search, sampling or beam search, with
// Hugging Face generate()'s flags and defaults.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "generate/text_generation.h"
#include "io/load_model.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair::cli {

namespace {

struct GenerateFlags {
  std::vector<std::string> prompts;
  int64_t max_length = 0, max_new_tokens = 0, num_beams = 1, top_k = 0, no_repeat_ngram_size = 0;
  int64_t num_return_sequences = 1;
  bool do_sample = false, no_stream = false;
  double temperature = 1, top_p = 1, repetition_penalty = 1, length_penalty = 1;
  std::string early_stopping;
  uint64_t seed = 0;
};

// Flags given on the command line win over the model's generation_config.json and HF's defaults.
GenerationConfig config_from(const CLI::App& cmd, const GenerateFlags& f, GenerationConfig c) {
  auto given = [&](const char* name) { return cmd.count(name) > 0; };
  if (given("--max-length")) {
    c.max_length = f.max_length;
    c.max_new_tokens = -1;
  }
  if (given("--max-new-tokens")) c.max_new_tokens = f.max_new_tokens;
  if (given("--num-beams")) c.num_beams = f.num_beams;
  if (given("--do-sample")) c.do_sample = f.do_sample;
  if (given("--temperature")) c.temperature = f.temperature;
  if (given("--top-k")) c.top_k = f.top_k;
  if (given("--top-p")) c.top_p = f.top_p;
  if (given("--repetition-penalty")) c.repetition_penalty = f.repetition_penalty;
  if (given("--no-repeat-ngram-size")) c.no_repeat_ngram_size = f.no_repeat_ngram_size;
  if (given("--early-stopping")) c.early_stopping = early_stopping_from_string(f.early_stopping);
  if (given("--length-penalty")) c.length_penalty = f.length_penalty;
  if (given("--num-return-sequences")) c.num_return_sequences = f.num_return_sequences;
  if (given("--seed")) c.seed = f.seed;
  return c;
}

nlohmann::json results_json(const std::string& model_path, const GenerationConfig& c,
                            const std::vector<TextResult>& results, const Tokenizer& tokenizer) {
  nlohmann::json j;
  j["model_path"] = model_path;
  j["tokenizer"] = tokenizer.description();
  j["generation_config"] = generation_config_to_json(c);
  j["results"] = nlohmann::json::array();
  for (const TextResult& r : results) {
    nlohmann::json jr;
    jr["prompt"] = r.prompt;
    jr["prompt_ids"] = r.prompt_ids;
    jr["sequences"] = nlohmann::json::array();
    for (size_t k = 0; k < r.sequences.size(); ++k) {
      const GeneratedSequence& s = r.sequences[k];
      nlohmann::json js;
      js["text"] = r.texts[k];
      js["continuation"] = r.continuations[k];
      js["token_ids"] = s.tokens;
      js["new_tokens"] = s.tokens.size() - r.prompt_ids.size();
      js["score"] = s.score;
      js["finish_reason"] = s.ended_with_eos ? "eos" : "length";
      jr["sequences"].push_back(std::move(js));
    }
    j["results"].push_back(std::move(jr));
  }
  return j;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<CommonOptions>();
  auto f = std::make_shared<GenerateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "Continue prompts with greedy search, sampling or beam search (Hugging Face generate() semantics)");
  cmd->footer(
      "Example (the fairness notebook's settings):\n"
      "  optipfair generate -m MODEL --prompt \"The Black man walked at night\" --num-beams 5 \\\n"
      "      --early-stopping --no-repeat-ngram-size 2 --max-length 50\n"
      "Defaults follow transformers' GenerationConfig (greedy, max_length 20) unless the model folder's\n"
      "generation_config.json says otherwise.");
  add_common_options(cmd, *options, /*with_json=*/true);
  cmd->add_option("--prompt,-p", f->prompts, "text to continue; repeat the option for several prompts")->required();
  auto* max_length = cmd->add_option("--max-length", f->max_length, "total length in tokens, prompt included (default 20)")
                         ->check(CLI::PositiveNumber);
  cmd->add_option("--max-new-tokens", f->max_new_tokens, "new tokens at most, whatever the prompt's length")
      ->check(CLI::PositiveNumber)
      ->excludes(max_length);
  cmd->add_option("--num-beams", f->num_beams, "beam search with this many beams (1: no beam search)");
  cmd->add_flag("--do-sample", f->do_sample, "sample instead of taking the most likely token");
  cmd->add_option("--temperature", f->temperature, "sampling temperature (default 1.0)");
  cmd->add_option("--top-k", f->top_k, "sample among the k most likely tokens (default 50; 0: off)");
  cmd->add_option("--top-p", f->top_p, "sample among the most likely tokens holding this probability mass (default 1.0)");
  cmd->add_option("--repetition-penalty", f->repetition_penalty, "penalise tokens already present, prompt included (default 1.0)");
  cmd->add_option("--no-repeat-ngram-size", f->no_repeat_ngram_size, "never repeat an n-gram of this size (default 0: off)");
  cmd->add_flag("--early-stopping{true}", f->early_stopping,
                "beam search stops once num_beams hypotheses are finished; =false or =never for HF's other rules");
  cmd->add_option("--length-penalty", f->length_penalty, "beam score = log-prob sum / length^this (default 1.0)");
  cmd->add_option("--num-return-sequences", f->num_return_sequences, "sequences per prompt (beam search or sampling)");
  cmd->add_option("--seed", f->seed, "random seed for sampling (default 0)");
  cmd->add_flag("--no-stream", f->no_stream, "print only when done, even on a terminal");

  cmd->callback([options, f, cmd] {
    apply_threads(*options);
    const std::string path = resolve_model_path(*options);
    const Model model = load_model(path);
    const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(model.source);
    const GenerationConfig config = config_from(*cmd, *f, generation_config_for_model(model, *tokenizer));

    const bool stream = !options->json && !f->no_stream && f->prompts.size() == 1 && config.num_beams == 1 &&
                        config.num_return_sequences == 1 && isatty(STDOUT_FILENO);
    TextCallback on_text;
    if (stream) {
      std::fputs(f->prompts.front().c_str(), stdout);
      std::fflush(stdout);
      on_text = [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      };
    }
    const auto start = std::chrono::steady_clock::now();
    const std::vector<TextResult> results = generate_text(model, *tokenizer, f->prompts, config, on_text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (options->json) {
      std::cout << results_json(path, config, results, *tokenizer).dump(2) << "\n";
    } else if (stream) {
      std::fputs("\n", stdout);
    } else {
      const bool label = results.size() > 1 || results.front().texts.size() > 1;
      for (size_t p = 0; p < results.size(); ++p)
        for (size_t k = 0; k < results[p].texts.size(); ++k) {
          if (label) std::printf("[prompt %zu, sequence %zu]\n", p + 1, k + 1);
          std::printf("%s\n", results[p].texts[k].c_str());
          if (label) std::printf("\n");
        }
    }
    if (options->verbose && !options->quiet) {
      int64_t new_tokens = 0;
      for (const auto& r : results)
        for (const auto& s : r.sequences) new_tokens += static_cast<int64_t>(s.tokens.size() - r.prompt_ids.size());
      std::fprintf(stderr, "%lld new tokens in %.2f s (%s)\n", static_cast<long long>(new_tokens), seconds,
                   tokenizer->description().c_str());
    }
  });
}

}  // namespace optipfair::cli
