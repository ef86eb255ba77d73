#include "serve/model_pool.h"

#include <algorithm>
#include <chrono>

#include "io/load_model.h"

namespace optipfair {

ModelPool::ModelPool(size_t max_resident) : max_resident_(std::max<size_t>(1, max_resident)) {}

std::shared_ptr<const LoadedModel> ModelPool::get(const CatalogEntry& entry) {
  // The key is what is opened, so two ids naming the same path share one load.
  const std::string key = entry.path;
  std::promise<std::shared_ptr<const LoadedModel>> promise;
  Slot slot;
  bool load_here = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    order_.remove(key);
    order_.push_front(key);
    auto it = slots_.find(key);
    if (it != slots_.end()) {
      slot = it->second;
    } else {
      slot = promise.get_future().share();
      slots_.emplace(key, slot);
      load_here = true;
      ++loads_;
      while (order_.size() > max_resident_) {
        slots_.erase(order_.back());
        order_.pop_back();
      }
    }
  }
  if (load_here) {
    try {
      const auto start = std::chrono::steady_clock::now();
      auto loaded = std::make_shared<LoadedModel>();
      loaded->entry = entry;
      // A server never downloads on a request's behalf: only what is on disk is offered.
      loaded->model = load_model(entry.path, LoadOptions{.allow_download = false});
      // A Hugging Face id resolves to its snapshot folder, which is where the tokenizer is.
      const std::filesystem::path from = loaded->model.source.empty() ? std::filesystem::path(entry.path)
                                                                      : loaded->model.source;
      loaded->tokenizer = load_tokenizer(from);
      loaded->seconds_to_load = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      promise.set_value(std::move(loaded));
    } catch (...) {
      promise.set_exception(std::current_exception());
      std::lock_guard<std::mutex> lock(mutex_);
      slots_.erase(key);
      order_.remove(key);
    }
  }
  return slot.get();
}

size_t ModelPool::resident() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.size();
}

int64_t ModelPool::loads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loads_;
}

}  // namespace optipfair
