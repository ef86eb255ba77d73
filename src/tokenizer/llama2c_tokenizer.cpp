// llama2.c's tokenizer.bin / tok512.bin: int32 max_token_length, then per token a float32
// score, an int32 length and the piece bytes; ids 0..2 are <unk>, <s>, </s> and 3..258 the
// <0xXX> bytes. Pieces write a space as " " (the exporter replaced SentencePiece's "▁"), so text
// holding a literal "▁" falls back to bytes, exactly as run.c encodes it.
#include <cstring>

#include "io/mapped_file.h"
#include "tokenizer/score_bpe_tokenizer.h"
#include "util/error.h"

namespace optipfair {

std::unique_ptr<Tokenizer> load_tokenizer_llama2c(const std::filesystem::path& path) {
  auto file = MappedFile::open(path);
  const uint8_t* data = file->data();
  const size_t size = file->size();
  auto fail = [&](const std::string& what) -> void {
    throw Error(path.string() + " is not a llama2.c tokenizer file: " + what);
  };
  size_t pos = 0;
  auto read = [&](void* dst, size_t n) {
    if (pos + n > size) fail("it ends in the middle of a token");
    std::memcpy(dst, data + pos, n);
    pos += n;
  };
  int32_t max_len = 0;
  if (size < 4) fail("it is shorter than its 4-byte header");
  read(&max_len, 4);
  if (max_len <= 0 || max_len > 4096) fail("its max_token_length is " + std::to_string(max_len));
  ScoreBpeVocab v;
  while (pos < size) {
    float score = 0;
    int32_t len = 0;
    if (pos + 8 > size) fail("it ends in the middle of token " + std::to_string(v.pieces.size()));
    read(&score, 4);
    read(&len, 4);
    if (len < 0 || len > max_len || pos + static_cast<size_t>(len) > size)
      fail("token " + std::to_string(v.pieces.size()) + " has length " + std::to_string(len));
    v.pieces.emplace_back(reinterpret_cast<const char*>(data + pos), static_cast<size_t>(len));
    v.scores.push_back(score);
    pos += static_cast<size_t>(len);
  }
  if (v.pieces.size() < 259) fail("it holds " + std::to_string(v.pieces.size()) + " tokens, fewer than the 259 fixed ones");
  for (int b = 0; b < 256; ++b) v.byte_ids[b] = 3 + b;
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.specials = {{0, "<unk>", true}, {1, "<s>", true}, {2, "</s>", true}};
  v.description = path.filename().string() + " (llama2.c, " + std::to_string(v.pieces.size()) + " tokens)";
  return std::make_unique<ScoreBpeTokenizer>(std::move(v));
}

}  // namespace optipfair
