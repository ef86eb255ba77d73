// Models loaded once and shared read-only by every request. At most `max_resident` stay loaded;
// the least recently used is dropped first (requests still holding it keep it alive until they
// finish). Two requests for a model that is loading wait for the same load.
#pragma once
#include <cstdint>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "model/model.h"
#include "serve/model_catalog.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

struct LoadedModel {
  CatalogEntry entry;
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
  double seconds_to_load = 0;
};

class ModelPool {
 public:
  explicit ModelPool(size_t max_resident);

  // The loaded model, loading it when needed. Throws the loader's Error (and forgets the failure,
  // so a fixed file can be tried again).
  std::shared_ptr<const LoadedModel> get(const CatalogEntry& entry);

  size_t resident() const;
  int64_t loads() const;  // loads performed so far (a cached model is not loaded again)

 private:
  using Slot = std::shared_future<std::shared_ptr<const LoadedModel>>;
  mutable std::mutex mutex_;
  size_t max_resident_;
  std::list<std::string> order_;  // most recently used first
  std::unordered_map<std::string, Slot> slots_;
  int64_t loads_ = 0;
};

}  // namespace optipfair
