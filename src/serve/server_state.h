// What the request handlers share (internal to src/serve).
#pragma once
#include <deque>
#include <memory>
#include <mutex>

#include <httplib.h>

#include "serve/job_queue.h"
#include "serve/model_pool.h"
#include "serve/serve_jobs.h"
#include "serve/server.h"

namespace optipfair {

struct ServerState {
  ServeOptions options;
  CatalogOptions catalog;
  std::unique_ptr<ModelPool> pool;
  std::unique_ptr<JobQueue> queue;
  httplib::Server http;
  int port = 0;
  // Fairness-pruned results holding a model, most recent last; older ones drop their model.
  std::mutex pruned_mutex;
  std::deque<std::shared_ptr<const FairPruneOutput>> pruned;
  std::mutex write_mutex;  // one save or report at a time under the output folder

  JobContext job_context() {
    return {pool.get(), catalog, [this](const std::shared_ptr<const FairPruneOutput>& out) { remember_pruned(out); }};
  }
  // Keeps the newest fairness-pruned models in memory; older ones let go of theirs.
  void remember_pruned(const std::shared_ptr<const FairPruneOutput>& out) {
    std::lock_guard<std::mutex> lock(pruned_mutex);
    pruned.push_back(out);
    while (pruned.size() > options.max_pruned_in_memory) {
      pruned.front()->drop_model();
      pruned.pop_front();
    }
  }
};

// Sends {"error": message} with `status`.
void send_error(httplib::Response& res, int status, const std::string& message);
void send_json(httplib::Response& res, const nlohmann::ordered_json& body, int status = 200);

// The /api routes (api_routes.cpp).
void add_api_routes(ServerState& state);

}  // namespace optipfair
