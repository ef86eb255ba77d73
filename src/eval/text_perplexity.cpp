#include "eval/text_perplexity.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "eval/eval_text.h"
#include "eval/metrics.h"
#include "util/error.h"

namespace optipfair {

std::vector<std::string> split_text_documents(std::string_view text) {
  static constexpr std::string_view kSeparator = "<|endoftext|>";
  std::vector<std::string> docs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(kSeparator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string doc = python_strip(text.substr(start, end - start));
    if (!doc.empty()) docs.push_back(std::move(doc));
    start = end + kSeparator.size();
  }
  return docs;
}

TextPerplexity text_perplexity(const Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& documents,
                               const LoglikelihoodOptions& options) {
  std::vector<int64_t> tokens;
  const std::vector<double> lls = run_loglikelihood_rolling(model, tokenizer, documents, options, &tokens);
  TextPerplexity p;
  std::vector<std::pair<double, double>> words, bytes;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (tokens[i] == 0) continue;
    ++p.documents;
    p.tokens += tokens[i];
    p.loglikelihood += lls[i];
    const int64_t w = count_words_python(documents[i]);
    const int64_t b = static_cast<int64_t>(documents[i].size());
    words.emplace_back(lls[i], static_cast<double>(w));
    bytes.emplace_back(lls[i], static_cast<double>(b));
    p.words += w;
    p.bytes += b;
  }
  if (p.tokens == 0) throw Error("the text holds no token to measure perplexity on");
  p.mean_loss = -p.loglikelihood / static_cast<double>(p.tokens);
  p.token_perplexity = std::exp(p.mean_loss);
  p.word_perplexity = weighted_perplexity(words);
  p.byte_perplexity = weighted_perplexity(bytes);
  p.bits_per_byte = bits_per_byte(bytes);
  return p;
}

TextPerplexity text_file_perplexity(const Model& model, const Tokenizer& tokenizer, const std::string& path,
                                    const LoglikelihoodOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the perplexity text " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw Error("reading " + path + " failed");
  const std::vector<std::string> docs = split_text_documents(buf.str());
  if (docs.empty()) throw Error(path + " holds no text to measure perplexity on");
  return text_perplexity(model, tokenizer, docs, options);
}

nlohmann::ordered_json text_perplexity_json(const TextPerplexity& p) {
  nlohmann::ordered_json j;
  j["documents"] = p.documents;
  j["tokens_predicted"] = p.tokens;
  j["mean_loss"] = p.mean_loss;
  j["perplexity"] = p.token_perplexity;
  j["word_perplexity"] = p.word_perplexity;
  j["byte_perplexity"] = p.byte_perplexity;
  j["bits_per_byte"] = p.bits_per_byte;
  return j;
}

}  // namespace optipfair
