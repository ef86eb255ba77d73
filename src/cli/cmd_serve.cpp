// optipfair serve: the web app. Parses options, prints where to open it, serves until Ctrl-C.
#include <csignal>
#include <cstdio>
#include <memory>
#include <pthread.h>
#include <thread>

#include "cli/commands.h"
#include "serve/server.h"
#include "util/error.h"

namespace optipfair::cli {

namespace {

struct ServeCliOptions {
  ServeOptions serve;
  std::vector<std::string> models_dirs;
  std::string output_dir = "optipfair_serve";
  bool no_hf_cache = false;
  bool no_demo = false;
  int threads = 0;
};

void run_serve(ServeCliOptions& o) {
  CommonOptions common;
  common.threads = o.threads;
  common.quiet = true;  // progress goes to the page, not to the terminal
  apply_threads(common);
  ServeOptions s = o.serve;
  for (const std::string& d : o.models_dirs) s.models_dirs.emplace_back(d);
  s.output_dir = o.output_dir;
  s.hf_cache = !o.no_hf_cache;
  s.demo = !o.no_demo;
  const bool public_address = !host_is_loopback(s.host);
  if (public_address && s.token.empty()) s.token = make_access_token();

  // Ctrl-C and SIGTERM are taken by one thread that stops the server (a handler may not).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Server server(s);
  server.bind();
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  });
  if (public_address)
    std::fprintf(stderr,
                 "optipfair: warning: serving on %s, reachable from other machines; anyone with the URL below "
                 "(it holds the access token) can run models and write under %s\n",
                 s.host.c_str(), s.output_dir.string().c_str());
  std::printf("optipfair serve: open %s\n(Ctrl-C stops; saved models and reports go to %s)\n", server.url().c_str(),
              s.output_dir.string().c_str());
  std::fflush(stdout);
  server.run();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeCliOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the bias analyzer and fairness pruner as a web app in your browser");
  cmd->add_option("--model-path", o->serve.model_paths, "a model to offer (folder, .gguf, llama2.c .bin or Hugging Face id); repeatable");
  cmd->add_option("--models-dir", o->models_dirs, "a folder whose model folders and .gguf files are offered; repeatable")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--host", o->serve.host, "address to listen on; anything but loopback needs an access token")->capture_default_str();
  cmd->add_option("--port", o->serve.port, "port to listen on (0: any free port)")->capture_default_str();
  cmd->add_option("--token", o->serve.token, "access token required on every request (default: none on loopback, a random one otherwise)");
  cmd->add_option("--output-dir,-o", o->output_dir, "folder for saved models and reports (offered as models too)")->capture_default_str();
  cmd->add_option("--max-models", o->serve.max_resident_models, "loaded models kept in memory")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--workers", o->serve.workers, "jobs run at the same time")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads per job (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-hf-cache", o->no_hf_cache, "do not offer the models in the Hugging Face cache");
  cmd->add_flag("--no-demo", o->no_demo, "do not offer the bundled demo model");
  cmd->callback([o] { run_serve(*o); });
}

}  // namespace optipfair::cli
