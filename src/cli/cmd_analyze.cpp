// optipfair analyze: what a model is made of and what pruning its MLP would save.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/cli_values.h"
#include "io/load_model.h"
#include "model/model.h"
#include "model/param_count.h"

namespace optipfair::cli {

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
  return buf;
}

void print_summary(const nlohmann::json& j) {
  const auto& p = j["parameters"];
  const int64_t total = p["total"].get<int64_t>();
  auto pct = [&](int64_t n) { return 100.0 * static_cast<double>(n) / static_cast<double>(total); };
  std::printf("Model:         %s (%s)\n", j["model_path"].get<std::string>().c_str(), j["format"].get<std::string>().c_str());
  std::printf("Architecture:  %s, %lld layers, hidden %lld, %lld query / %lld key-value heads of %lld\n",
              j["model_type"].get<std::string>().c_str(), (long long)j["num_hidden_layers"].get<int64_t>(),
              (long long)j["hidden_size"].get<int64_t>(), (long long)j["num_attention_heads"].get<int64_t>(),
              (long long)j["num_key_value_heads"].get<int64_t>(), (long long)j["head_dim"].get<int64_t>());
  std::printf("Vocabulary:    %lld tokens, embeddings %s\n", (long long)j["vocab_size"].get<int64_t>(),
              j["tie_word_embeddings"].get<bool>() ? "tied to the LM head" : "separate from the LM head");
  std::printf("Weights:       %s\n", j["dtype"].get<std::string>().c_str());
  if (j["intermediate_size"].is_null()) {
    std::printf("MLP widths:    per layer:");
    for (const auto& w : j["intermediate_sizes"]) std::printf(" %lld", (long long)w.get<int64_t>());
    std::printf("\n");
  } else {
    std::printf("MLP width:     %lld (expansion ratio %.3fx, rate %.1f%%)\n",
                (long long)j["intermediate_size"].get<int64_t>(), j["expansion_ratio"].get<double>(),
                j["expansion_rate_percent"].get<double>());
  }
  std::printf("GLU pruning:   %s\n\n", j["glu_pruning_applicable"].get<bool>() ? "applicable (gated MLP)" : "not applicable");

  std::printf("Parameters     %15s %8s\n", "count", "share");
  const char* parts[] = {"embeddings", "lm_head", "attention", "mlp", "norms"};
  for (const char* part : parts) {
    const int64_t n = p[part].get<int64_t>();
    std::printf("  %-12s %15s %7.2f%%\n", part, with_commas(n).c_str(), pct(n));
  }
  std::printf("  %-12s %15s\n\n", "total", with_commas(total).c_str());

  std::printf("Per layer      %12s %12s %8s %12s %8s\n", "attention", "mlp", "norms", "total", "MLP width");
  for (const auto& l : j["layers"])
    std::printf("  layer %-6lld %12s %12s %8s %12s %8lld\n", (long long)l["layer"].get<int64_t>(),
                with_commas(l["attention"].get<int64_t>()).c_str(), with_commas(l["mlp"].get<int64_t>()).c_str(),
                with_commas(l["norms"].get<int64_t>()).c_str(), with_commas(l["total"].get<int64_t>()).c_str(),
                (long long)l["intermediate_size"].get<int64_t>());

  std::printf("\nPruning MLP neurons (each removes 3 x hidden parameters):\n");
  std::printf("  %8s %12s %15s %10s %12s\n", "pruned", "neurons", "parameters", "reduction", "memory");
  for (const auto& s : j["pruning_savings"])
    std::printf("  %7.0f%% %12s %15s %9.2f%% %12s\n", s["pruning_percentage"].get<double>(),
                with_commas(s["neurons_removed"].get<int64_t>()).c_str(),
                with_commas(s["parameters_removed"].get<int64_t>()).c_str(), s["percentage_reduction"].get<double>(),
                human_bytes(static_cast<double>(s["bytes_saved"].get<int64_t>())).c_str());
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto options = std::make_shared<CommonOptions>();
  CLI::App* cmd = app.add_subcommand("analyze", "Show a model's architecture, parameter split and what pruning would save");
  add_common_options(cmd, *options, /*with_json=*/true);
  cmd->callback([options] {
    apply_threads(*options);
    const Model model = load_model(resolve_model_path(*options));
    const nlohmann::json j = model_summary_json(model);
    if (options->json) std::cout << j.dump(2) << "\n";
    else print_summary(j);
  });
}

}  // namespace optipfair::cli
