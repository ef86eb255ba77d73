// Where next-token logits come from during generation: numbered sequence slots that grow by
// fed tokens. Search code only talks to this interface, so it is tested on hand-made sources.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/forward.h"
#include "model/model.h"

namespace optipfair {

struct SlotTokens {
  int32_t slot = 0;
  std::span<const int32_t> tokens;  // appended to what the slot already holds
};

class LogitsSource {
 public:
  virtual ~LogitsSource() = default;
  virtual int64_t vocab_size() const = 0;
  // Drops all state and makes `count` empty slots that can each hold `capacity` tokens.
  virtual void slots_reset(int64_t count, int64_t capacity) = 0;
  // Appends each item's tokens to its slot (one batch: a model runs them all in one pass) and
  // returns items.size() rows of vocab_size logits for the position after each item's last token.
  virtual std::vector<float> slots_feed(std::span<const SlotTokens> items) = 0;
  // Slot i takes the state slot sources[i] had before the call, for i < sources.size()
  // (beams being reordered, a prompt's state shared by several samples).
  virtual void slots_reorder(std::span<const int32_t> sources) = 0;
};

// A model with one KV cache per slot; a reorder copies only the filled part of the caches.
class ModelLogitsSource : public LogitsSource {
 public:
  explicit ModelLogitsSource(const Model& model) : model_(model) {}
  int64_t vocab_size() const override { return model_.config.vocab_size; }
  void slots_reset(int64_t count, int64_t capacity) override;
  std::vector<float> slots_feed(std::span<const SlotTokens> items) override;
  void slots_reorder(std::span<const int32_t> sources) override;

 private:
  std::unique_ptr<KVCache> cache_fresh();
  std::unique_ptr<KVCache> cache_copy(KVCache& from);  // KVCache hands out only mutable pointers
  const Model& model_;
  int64_t capacity_ = 0;
  std::vector<std::unique_ptr<KVCache>> caches_;
  std::vector<std::unique_ptr<KVCache>> spare_;  // caches no slot uses, kept to avoid reallocating
};

// Logits computed by a function of a slot's whole token history: for tests and toy searches.
class FunctionLogitsSource : public LogitsSource {
 public:
  using Function = std::function<std::vector<float>(std::span<const int32_t> history)>;
  FunctionLogitsSource(int64_t vocab_size, Function function) : vocab_(vocab_size), function_(std::move(function)) {}
  int64_t vocab_size() const override { return vocab_; }
  void slots_reset(int64_t count, int64_t capacity) override;
  std::vector<float> slots_feed(std::span<const SlotTokens> items) override;
  void slots_reorder(std::span<const int32_t> sources) override;
  int64_t feed_calls() const { return feed_calls_; }

 private:
  int64_t vocab_;
  Function function_;
  int64_t capacity_ = 0;
  int64_t feed_calls_ = 0;
  std::vector<std::vector<int32_t>> history_;
};

}  // namespace optipfair
