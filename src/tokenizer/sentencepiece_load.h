// Loading a SentencePiece .model file into the library's processor, with every failure an Error.
#pragma once
#include <filesystem>

#include <sentencepiece_processor.h>

namespace optipfair {

// Throws Error("cannot load the SentencePiece model <path>: <reason>") for a file the library refuses.
void sentencepiece_load(sentencepiece::SentencePieceProcessor& sp, const std::filesystem::path& path);

}  // namespace optipfair
