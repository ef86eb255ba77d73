// `optipfair tokenize`: shows how a prompt is split into tokens, to debug prompt pairs that
// should differ only at one word.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "tokenizer/tokenizer.h"

namespace optipfair::cli {

namespace {

struct TokenizeOptions {
  CommonOptions common;
  std::string text;
  bool no_special = false;
  bool no_parse_special = false;
};

void run_tokenize(const TokenizeOptions& o) {
  auto tok = load_tokenizer(resolve_model_path(o.common));
  EncodeOptions encode_options;
  encode_options.add_special_tokens = !o.no_special;
  encode_options.parse_special = !o.no_parse_special;
  const auto ids = tok->encode(o.text, encode_options);
  if (o.common.json) {
    nlohmann::json out;
    out["tokenizer"] = tok->description();
    out["count"] = ids.size();
    out["ids"] = ids;
    nlohmann::json pieces = nlohmann::json::array(), texts = nlohmann::json::array();
    for (int32_t id : ids) {
      // Pieces may hold partial UTF-8 (byte tokens); replace rather than fail to serialise.
      pieces.push_back(tok->token_text(id));
      texts.push_back(tok->decode(std::span<const int32_t>(&id, 1)));
    }
    out["pieces"] = pieces;
    out["texts"] = texts;
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  if (!o.common.quiet) std::printf("tokenizer: %s\n", tok->description().c_str());
  std::printf("%5s  %8s  %-24s  %s\n", "index", "id", "piece", "text");
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    const std::string piece = "\"" + escape_visible(tok->token_text(id)) + "\"";
    const std::string text = "\"" + escape_visible(tok->decode(std::span<const int32_t>(&id, 1))) + "\"";
    std::printf("%5zu  %8d  %-24s  %s%s\n", i, id, piece.c_str(), text.c_str(), tok->is_special(id) ? "  (special)" : "");
  }
  std::printf("count: %zu\n", ids.size());
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "show the token ids and pieces of a text");
  add_common_options(cmd, options->common, true);
  cmd->add_option("--text", options->text, "the text to tokenize")->required();
  cmd->add_flag("--no-special", options->no_special, "do not add BOS/EOS");
  cmd->add_flag("--no-parse-special", options->no_parse_special,
                "treat special-token text such as <|eot_id|> as plain text");
  cmd->callback([options] { run_tokenize(*options); });
}

}  // namespace optipfair::cli
