#include "generate/text_generation.h"

#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace optipfair {

namespace {

bool ends_in_replacement(const std::string& text) {
  return text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

std::string after_prefix(const std::string& text, const std::string& prefix) {
  if (text.compare(0, prefix.size(), prefix) == 0) return text.substr(prefix.size());
  return text;  // the prompt's text did not survive decoding unchanged: show everything
}

}  // namespace

GenerationConfig generation_config_for_model(const Model& model, const Tokenizer& tokenizer) {
  GenerationConfig c;
  for (int64_t id : model.config.eos_token_ids) c.eos_token_ids.push_back(static_cast<int32_t>(id));
  if (c.eos_token_ids.empty()) c.eos_token_ids = tokenizer.eos_ids();
  c.pad_token_id = tokenizer.pad_id();
  std::error_code ec;
  const std::filesystem::path file = model.source / "generation_config.json";
  if (std::filesystem::is_directory(model.source, ec) && std::filesystem::exists(file, ec)) {
    std::ifstream in(file);
    nlohmann::json j;
    try {
      in >> j;
    } catch (const nlohmann::json::exception&) {
      throw Error(file.string() + " is not valid JSON");
    }
    generation_config_update_from_json(c, j);
  }
  return c;
}

GenerationConfig notebook_beam_config(const Model& model, const Tokenizer& tokenizer) {
  GenerationConfig g = generation_config_for_model(model, tokenizer);
  g.num_beams = 5;
  g.no_repeat_ngram_size = 2;
  g.early_stopping = EarlyStopping::True;
  g.max_length = 50;
  g.max_new_tokens = -1;
  g.do_sample = false;
  return g;
}

std::vector<int32_t> prompt_encode(const Tokenizer& tokenizer, std::string_view prompt) {
  if (prompt.empty()) throw Error("the prompt is empty; give some text to continue");
  return tokenizer.encode(prompt);
}

std::vector<TextResult> generate_text(const Model& model, const Tokenizer& tokenizer,
                                      std::span<const std::string> prompts, const GenerationConfig& config,
                                      const TextCallback& on_text) {
  if (prompts.empty()) throw Error("no prompt given");
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::string> prompt_texts;
  for (const std::string& p : prompts) {
    ids.push_back(prompt_encode(tokenizer, p));
    prompt_texts.push_back(tokenizer.decode(ids.back(), /*skip_special_tokens=*/true));
  }

  TokenCallback on_token;
  std::vector<int32_t> streamed;
  size_t printed = 0;
  const bool streaming = on_text && prompts.size() == 1 && config.num_beams == 1 && config.num_return_sequences == 1;
  if (streaming) {
    streamed = ids.front();
    printed = prompt_texts.front().size();
    // Decoding the whole sequence each time keeps SentencePiece's leading-space rules and
    // byte-level merges right; generated texts are short enough for that.
    on_token = [&](size_t, int32_t token) {
      streamed.push_back(token);
      const std::string text = tokenizer.decode(streamed, true);
      if (ends_in_replacement(text) || text.size() <= printed) return;
      on_text(std::string_view(text).substr(printed));
      printed = text.size();
    };
  }

  ModelLogitsSource source(model);
  std::vector<PromptResult> results = generate(source, ids, config, on_token);

  std::vector<TextResult> out(prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    TextResult& r = out[p];
    r.prompt = prompts[p];
    r.prompt_ids = ids[p];
    r.sequences = std::move(results[p].sequences);
    for (const auto& s : r.sequences) {
      r.texts.push_back(tokenizer.decode(s.tokens, true));
      r.continuations.push_back(after_prefix(r.texts.back(), prompt_texts[p]));
    }
  }
  // What was held back (an unfinished character at the very end) goes out now.
  if (streaming && !out.front().texts.empty() && out.front().texts.front().size() > printed)
    on_text(std::string_view(out.front().texts.front()).substr(printed));
  return out;
}

}  // namespace optipfair
