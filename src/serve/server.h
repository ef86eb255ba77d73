// `optipfair serve`: the bias analyzer and the fairness pruner as a local web app. One process
// holds the models (model_pool.h), runs the work as jobs (job_queue.h) and answers a small JSON
// API plus the page, whose files are compiled into the binary (no network needed, no CDN).
//
// Secure by default: it binds 127.0.0.1 and answers only requests addressed to a loopback name
// (so a web page elsewhere cannot reach it through DNS rebinding); binding any other address
// requires an access token, checked on every request. Models come only from the catalog
// (model_catalog.h), files are written only under the output folder, and no shell is ever run.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "serve/model_catalog.h"
#include "serve/serve_requests.h"

namespace optipfair {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8765;                       // 0: any free port (tests)
  std::string token;                     // required when `host` is not a loopback address
  std::vector<std::string> model_paths;  // offered as given
  std::vector<std::filesystem::path> models_dirs;
  bool hf_cache = true;                  // offer the user's Hugging Face cache
  bool demo = true;                      // offer the bundled demo model
  std::filesystem::path output_dir = "optipfair_serve";
  size_t max_resident_models = 2;        // loaded models kept (least recently used dropped)
  size_t max_pruned_in_memory = 2;       // fairness-pruned models kept for saving
  int workers = 1;                       // jobs run at once (each uses every core)
  size_t max_body_bytes = 1 << 20;
  ServeLimits limits;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool host_is_loopback(const std::string& host);
// 32 hexadecimal characters from the system's random source.
std::string make_access_token();

class Server {
 public:
  // Throws Error for options that would be unsafe or cannot work (a public address without a token,
  // an output folder that cannot be made).
  explicit Server(ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket; returns the port (useful with port 0). Throws Error when it cannot.
  int bind();
  // Serves until stop() is called (from another thread or a signal handler's thread).
  void run();
  void stop();
  // http://host:port/ (with ?token=... when a token is set).
  std::string url() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace optipfair
