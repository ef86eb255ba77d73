#include "generate/logits_source.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "util/error.h"

namespace optipfair {

namespace {

void check_slot(int32_t slot, size_t count) {
  if (slot < 0 || static_cast<size_t>(slot) >= count)
    throw Error("generation slot " + std::to_string(slot) + " does not exist");
}

// For each slot, how many later slots (in order) still read the same source: the last reader
// may take the source's state instead of copying it.
std::vector<int32_t> uses_of(std::span<const int32_t> sources, size_t count) {
  std::vector<int32_t> uses(count, 0);
  for (int32_t s : sources) {
    check_slot(s, count);
    ++uses[static_cast<size_t>(s)];
  }
  return uses;
}

}  // namespace

void ModelLogitsSource::slots_reset(int64_t count, int64_t capacity) {
  for (auto& c : caches_)
    if (c && c->capacity() == capacity) spare_.push_back(std::move(c));
  caches_.clear();
  if (capacity_ != capacity) spare_.clear();
  capacity_ = capacity;
  for (int64_t i = 0; i < count; ++i) caches_.push_back(cache_fresh());
}

std::vector<float> ModelLogitsSource::slots_feed(std::span<const SlotTokens> items) {
  std::vector<SequenceInput> batch;
  batch.reserve(items.size());
  for (const SlotTokens& item : items) {
    check_slot(item.slot, caches_.size());
    if (item.tokens.empty()) throw Error("generation fed an empty token list");
    batch.push_back({item.tokens, caches_[static_cast<size_t>(item.slot)].get()});
  }
  if (batch.empty()) return {};
  return forward(model_, batch, LogitsMode::Last);
}

std::unique_ptr<KVCache> ModelLogitsSource::cache_fresh() {
  if (spare_.empty()) return std::make_unique<KVCache>(model_.config, capacity_);
  std::unique_ptr<KVCache> c = std::move(spare_.back());
  spare_.pop_back();
  c->clear();
  return c;
}

std::unique_ptr<KVCache> ModelLogitsSource::cache_copy(KVCache& src) {
  std::unique_ptr<KVCache> to = cache_fresh();
  const KVCache& from = src;
  const size_t floats = static_cast<size_t>(from.length() * model_.config.kv_dim());
  for (int layer = 0; layer < static_cast<int>(model_.config.num_hidden_layers); ++layer) {
    if (floats == 0) break;
    std::memcpy(to->k(layer, 0), src.k(layer, 0), floats * sizeof(float));
    std::memcpy(to->v(layer, 0), src.v(layer, 0), floats * sizeof(float));
  }
  to->advance(from.length());
  return to;
}

void ModelLogitsSource::slots_reorder(std::span<const int32_t> sources) {
  std::vector<int32_t> uses = uses_of(sources, caches_.size());
  std::vector<std::unique_ptr<KVCache>> next(caches_.size());
  // Copies first, while every source is still in place; moves after.
  for (size_t i = 0; i < sources.size(); ++i) {
    const size_t s = static_cast<size_t>(sources[i]);
    if (uses[s] > 1) {
      next[i] = cache_copy(*caches_[s]);
      --uses[s];
    }
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    const size_t s = static_cast<size_t>(sources[i]);
    if (!next[i]) next[i] = std::move(caches_[s]);
  }
  for (size_t i = sources.size(); i < caches_.size(); ++i)
    if (caches_[i]) next[i] = std::move(caches_[i]);
  for (auto& c : caches_)
    if (c) spare_.push_back(std::move(c));
  for (size_t i = 0; i < next.size(); ++i)
    if (!next[i]) next[i] = cache_fresh();
  caches_ = std::move(next);
}

void FunctionLogitsSource::slots_reset(int64_t count, int64_t capacity) {
  history_.assign(static_cast<size_t>(count), {});
  capacity_ = capacity;
}

std::vector<float> FunctionLogitsSource::slots_feed(std::span<const SlotTokens> items) {
  ++feed_calls_;
  std::vector<float> out;
  out.reserve(items.size() * static_cast<size_t>(vocab_));
  for (const SlotTokens& item : items) {
    check_slot(item.slot, history_.size());
    auto& h = history_[static_cast<size_t>(item.slot)];
    if (item.tokens.empty()) throw Error("generation fed an empty token list");
    for (int32_t t : item.tokens) {
      if (t < 0 || t >= vocab_) throw Error("token id " + std::to_string(t) + " is outside the vocabulary");
      h.push_back(t);
    }
    if (static_cast<int64_t>(h.size()) > capacity_) throw Error("generation slot overflowed its capacity");
    std::vector<float> row = function_(h);
    if (static_cast<int64_t>(row.size()) != vocab_) throw Error("logits function returned a row of the wrong size");
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

void FunctionLogitsSource::slots_reorder(std::span<const int32_t> sources) {
  uses_of(sources, history_.size());
  std::vector<std::vector<int32_t>> next = history_;
  for (size_t i = 0; i < sources.size(); ++i) next[i] = history_[static_cast<size_t>(sources[i])];
  history_ = std::move(next);
}

}  // namespace optipfair
