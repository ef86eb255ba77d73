// A small client of the Chrome DevTools protocol over --remote-debugging-pipe (fd 3 into the
// browser, fd 4 out of it, one JSON message per NUL-terminated chunk): enough to drive a page the
// way a user does, without a Node.js stack. Used by the end-to-end test of `optipfair serve`.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace optipfair::test {

class DevToolsPage {
 public:
  // Starts headless `chromium` with a fresh profile under `profile`, its log in `log`, and attaches
  // to its page. Throws std::runtime_error when the browser does not start or answer.
  DevToolsPage(const std::string& chromium, const std::filesystem::path& profile, const std::filesystem::path& log);
  ~DevToolsPage();
  DevToolsPage(const DevToolsPage&) = delete;
  DevToolsPage& operator=(const DevToolsPage&) = delete;

  // Sends `method` with `params` to the page (or to the browser when `to_browser`), returns its
  // "result"; throws std::runtime_error on an error answer or after `timeout_s`.
  nlohmann::json call(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                      bool to_browser = false, int timeout_s = 30);
  // The value of a JavaScript expression in the page (promises awaited); throws on an exception.
  nlohmann::json evaluate(const std::string& expression);
  // Polls `expression` until it is truthy (true) or `timeout_s` passes (false).
  bool wait_for(const std::string& expression, int timeout_s);
  void navigate(const std::string& url);
  // A PNG of the whole page as it looks now.
  std::string screenshot();

 private:
  nlohmann::json read_message(int timeout_ms);
  pid_t pid_ = -1;
  int to_browser_ = -1, from_browser_ = -1;
  int next_id_ = 1;
  std::string pending_;
  std::string session_;
};

}  // namespace optipfair::test
