// The Llama-family forward pass over a batch of token sequences, each with its own KV cache.
//
// Matrix products run on all rows of the batch at once (weights are read once per call);
// attention runs per sequence against that sequence's cache.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/matmul.h"
#include "model/capture.h"
#include "model/model.h"

namespace optipfair {

// Keys and values of past positions of one sequence, float32, [layer][position x kv_dim].
class KVCache {
 public:
  KVCache(const ModelConfig& config, int64_t capacity);
  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  void clear() { length_ = 0; }
  // Forgets positions >= n (n <= length()).
  void truncate(int64_t n);

  float* k(int layer, int64_t pos) { return k_[layer].data() + pos * kv_dim_; }
  float* v(int layer, int64_t pos) { return v_[layer].data() + pos * kv_dim_; }
  void advance(int64_t n) { length_ += n; }

 private:
  int64_t capacity_ = 0;
  int64_t kv_dim_ = 0;
  int64_t length_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

enum class LogitsMode { None, Last, All };

struct SequenceInput {
  std::span<const int32_t> tokens;  // appended after what is in the cache
  KVCache* cache = nullptr;
};

// Runs every sequence's new tokens. Returns logits: LogitsMode::All gives one row per new token
// of every sequence in order; Last gives one row per sequence; None gives nothing.
// Rows are vocab_size floats. Throws Error on a token id out of range or a full cache.
// `precision` applies to every matrix product of the call (kernels/matmul.h).
std::vector<float> forward(const Model& model, std::span<const SequenceInput> batch, LogitsMode mode,
                           ActivationCapture* capture = nullptr, Precision precision = Precision::Fast);

// Convenience: one sequence from position 0 with a fresh cache; all logits.
std::vector<float> forward_tokens(const Model& model, std::span<const int32_t> tokens,
                                  ActivationCapture* capture = nullptr, Precision precision = Precision::Fast);

// Counts forward() calls since start (tests use it to prove one pass per prompt).
uint64_t forward_call_count();
// Counts sequences (batch elements) passed to forward() since start: with batching, the proof
// of one pass per prompt is about sequences, not calls.
uint64_t forward_sequence_count();

}  // namespace optipfair
