#include "devtools_pipe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace optipfair::test {

namespace {

using json = nlohmann::json;

std::string decode_base64(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

DevToolsPage::DevToolsPage(const std::string& chromium, const std::filesystem::path& profile,
                           const std::filesystem::path& log) {
  int in[2], out[2];  // in: we write, the browser reads (its fd 3); out: the browser writes (its fd 4)
  if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
  const std::vector<std::string> args = {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                         "--disable-sync", "--disable-quic", "--hide-scrollbars", "--window-size=1400,1100",
                                         "--user-data-dir=" + profile.string(), "about:blank"};
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Move the pipe ends out of the way first: one of them may already be fd 3 or 4.
    const int r = fcntl(in[0], F_DUPFD, 10), w = fcntl(out[1], F_DUPFD, 10);
    dup2(r, 3);
    dup2(w, 4);
    const int logfd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (logfd >= 0) {
      dup2(logfd, 1);
      dup2(logfd, 2);
    }
    for (int fd = 5; fd < 1024; ++fd) close(fd);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_browser_ = in[1];
  from_browser_ = out[0];
  signal(SIGPIPE, SIG_IGN);
  const json targets = call("Target.getTargets", json::object(), true);
  std::string target;
  for (const json& t : targets.value("targetInfos", json::array()))
    if (t.value("type", "") == "page") target = t.value("targetId", "");
  if (target.empty()) target = call("Target.createTarget", {{"url", "about:blank"}}, true).value("targetId", "");
  session_ = call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}}, true).value("sessionId", "");
  if (session_.empty()) throw std::runtime_error("could not attach to the browser's page");
  call("Page.enable");
  call("Emulation.setDeviceMetricsOverride", {{"width", 1400}, {"height", 1100}, {"deviceScaleFactor", 1}, {"mobile", false}});
}

DevToolsPage::~DevToolsPage() {
  if (pid_ > 0) {
    try {
      call("Browser.close", json::object(), true, 5);
    } catch (...) {
    }
    for (int i = 0; i < 50 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (waitpid(pid_, nullptr, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (to_browser_ >= 0) close(to_browser_);
  if (from_browser_ >= 0) close(from_browser_);
}

json DevToolsPage::read_message(int timeout_ms) {
  for (;;) {
    const size_t end = pending_.find('\0');
    if (end != std::string::npos) {
      json j = json::parse(pending_.substr(0, end), nullptr, false);
      pending_.erase(0, end + 1);
      return j;
    }
    pollfd p{from_browser_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return nullptr;
    char buf[65536];
    const ssize_t n = read(from_browser_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("the browser closed its pipe");
    pending_.append(buf, static_cast<size_t>(n));
  }
}

json DevToolsPage::call(const std::string& method, const json& params, bool to_browser, int timeout_s) {
  const int id = next_id_++;
  json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!to_browser) message["sessionId"] = session_;
  const std::string text = message.dump() + std::string(1, '\0');
  for (size_t sent = 0; sent < text.size();) {
    const ssize_t n = write(to_browser_, text.data() + sent, text.size() - sent);
    if (n <= 0) throw std::runtime_error("cannot write to the browser");
    sent += static_cast<size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    json reply = read_message(200);
    if (!reply.is_object() || reply.value("id", -1) != id) continue;  // events and other answers
    if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
    return reply.value("result", json::object());
  }
  throw std::runtime_error(method + ": no answer in " + std::to_string(timeout_s) + " s");
}

json DevToolsPage::evaluate(const std::string& expression) {
  const json r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails")) throw std::runtime_error("page script failed: " + r["exceptionDetails"].dump());
  return r["result"].value("value", json());
}

bool DevToolsPage::wait_for(const std::string& expression, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    const json v = evaluate("Boolean(" + expression + ")");
    if (v.is_boolean() && v.get<bool>()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void DevToolsPage::navigate(const std::string& url) { call("Page.navigate", {{"url", url}}); }

std::string DevToolsPage::screenshot() {
  const json r = call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
  return decode_base64(r.value("data", ""));
}

}  // namespace optipfair::test
