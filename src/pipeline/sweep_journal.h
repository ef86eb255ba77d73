// sweep.jsonl: the sweep's journal. The first line records the settings that every row depends on
// (model, pairs, folds, precision, perplexity text, tasks); each further line is one finished row,
// appended and flushed to disk as soon as it is measured, so a killed sweep loses at most the rows
// in flight. Re-opening the journal with the same settings gives back its rows (a last line cut off
// by the kill is dropped); with other settings it is refused rather than mixed.
#pragma once
#include <cstdio>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/sweep.h"

namespace optipfair {

// The settings a row depends on. The grid is not among them: a re-run with a wider grid keeps the
// rows it shares with the earlier one and measures the rest.
nlohmann::ordered_json sweep_fingerprint(const SweepOptions& options);

class SweepJournal {
 public:
  // An empty path keeps nothing. Throws Error when the file holds another sweep's settings, a
  // malformed line before the last, or cannot be written.
  SweepJournal(const std::filesystem::path& path, const nlohmann::ordered_json& fingerprint, int num_layers);
  ~SweepJournal();
  SweepJournal(const SweepJournal&) = delete;
  SweepJournal& operator=(const SweepJournal&) = delete;

  const std::vector<SweepRow>& rows() const { return rows_; }
  // Appends one line and flushes it to disk (fsync) before returning.
  void append(const SweepRow& row);

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::vector<SweepRow> rows_;
};

}  // namespace optipfair
