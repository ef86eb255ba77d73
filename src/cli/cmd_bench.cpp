// optipfair bench: generation speed (the Python library's time_inference / compare_models_inference),
// prompt-processing throughput and peak memory of a model, or of an original and a pruned model.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "eval/inference_timing.h"
#include "io/load_model.h"
#include "model/model.h"
#include "model/panels.h"
#include "tokenizer/tokenizer.h"

namespace optipfair::cli {

namespace {

struct BenchFlags {
  std::vector<std::string> prompts;
  std::string compare;
  int64_t max_new_tokens = 50, num_runs = 5, warmup_runs = 2, prompt_tokens = 128;
};


}  // namespace

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<CommonOptions>();
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "Time generation and prompt processing (and compare with a pruned model)");
  cmd->footer("Example: optipfair bench -m MODEL --compare PRUNED --prompt \"Paris is the capital of\" --max-new-tokens 50");
  add_common_options(cmd, *options, /*with_json=*/true);
  cmd->add_option("--prompt,-p", f->prompts, "prompt to time; repeat for several (default: \"Paris is the capital of\")");
  cmd->add_option("--max-new-tokens", f->max_new_tokens, "new tokens per run (default 50)")->check(CLI::PositiveNumber);
  cmd->add_option("--num-runs", f->num_runs, "timed runs (default 5)")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup-runs", f->warmup_runs, "untimed runs first (default 2)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--prompt-tokens", f->prompt_tokens, "prompt length for the prompt-processing measurement (default 128)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--compare", f->compare, "a pruned model to compare with (speed-up, tokens/s improvement)");

  cmd->callback([options, f] {
    apply_threads(*options);
    if (f->prompts.empty()) f->prompts = {"Paris is the capital of"};
    const std::string path = resolve_model_path(*options);
    Model model = load_model(path);
    model_pack_panels(model);
    const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(model.source);
    nlohmann::json j;
    j["model"] = path;
    j["time_inference"] = inference_timing_json(
        time_inference(model, *tokenizer, f->prompts.front(), f->max_new_tokens, f->num_runs, f->warmup_runs));
    const PromptThroughput pp =
        time_prompt_processing(model, *tokenizer, f->prompts.front(), f->prompt_tokens, f->num_runs, f->warmup_runs);
    j["prompt_processing"] = {{"tokens", pp.tokens}, {"avg_time", pp.avg_time}, {"min_time", pp.min_time},
                              {"tokens_per_second", pp.tokens_per_second}};
    if (!f->compare.empty()) {
      Model pruned = load_model(f->compare);
      model_pack_panels(pruned);
      j["pruned_model"] = f->compare;
      j["comparison"] = compare_models_inference(model, pruned, *tokenizer, f->prompts, f->max_new_tokens, f->num_runs,
                                                 f->warmup_runs);
      const PromptThroughput pp2 =
          time_prompt_processing(pruned, *tokenizer, f->prompts.front(), f->prompt_tokens, f->num_runs, f->warmup_runs);
      j["pruned_prompt_processing"] = {{"tokens", pp2.tokens}, {"avg_time", pp2.avg_time}, {"min_time", pp2.min_time},
                                       {"tokens_per_second", pp2.tokens_per_second}};
    }
    j["peak_rss_bytes"] = peak_rss_bytes();
    if (options->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    const auto& ti = j["time_inference"];
    std::printf("%s\n", path.c_str());
    std::printf("generation: %lld new tokens, avg %.4f s (min %.4f, max %.4f), %.2f tokens/s\n",
                static_cast<long long>(ti["tokens_generated"].get<int64_t>()), ti["avg_time"].get<double>(),
                ti["min_time"].get<double>(), ti["max_time"].get<double>(), ti["tokens_per_second"].get<double>());
    std::printf("prompt processing: %lld tokens, avg %.4f s, %.1f tokens/s\n", static_cast<long long>(pp.tokens),
                pp.avg_time, pp.tokens_per_second);
    if (j.contains("comparison")) {
      const auto& c = j["comparison"];
      std::printf("compared with %s over %zu prompt(s): speed-up %.2fx, tokens/s improvement %+.2f %%\n",
                  f->compare.c_str(), f->prompts.size(), c["speedup"].get<double>(),
                  c["tps_improvement_percent"].get<double>());
      std::printf("pruned prompt processing: %.1f tokens/s\n",
                  j["pruned_prompt_processing"]["tokens_per_second"].get<double>());
    }
    std::printf("peak memory (RSS): %.1f MiB\n", static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0));
  });
}

}  // namespace optipfair::cli
