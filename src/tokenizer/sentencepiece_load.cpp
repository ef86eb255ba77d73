#include "tokenizer/sentencepiece_load.h"

#include "util/error.h"

namespace optipfair {

void sentencepiece_load(sentencepiece::SentencePieceProcessor& sp, const std::filesystem::path& path) {
  sentencepiece::util::Status status;
  // The library reports most faults in its status, but its trie builder (Darts) throws its own
  // exception type for some pieces (one starting with a NUL byte, for one).
  try {
    status = sp.Load(path.string());
  } catch (const std::exception& e) {
    throw Error("cannot load the SentencePiece model " + path.string() + ": " + e.what());
  }
  if (!status.ok()) throw Error("cannot load the SentencePiece model " + path.string() + ": " + status.ToString());
}

}  // namespace optipfair
