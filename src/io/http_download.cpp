#include "io/http_download.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unistd.h>

#include <httplib.h>

#include "util/error.h"

namespace optipfair {

namespace {

constexpr int kMaxRedirects = 10;
constexpr size_t kMaxBodyBytes = size_t{64} << 20;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string next_url(const std::string& current, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  auto [origin, path] = url_split(current);
  if (location.rfind("//", 0) == 0) return current.substr(0, current.find(':') + 1) + location;
  if (!location.empty() && location[0] == '/') return origin + location;
  std::string dir = path.substr(0, path.find('?'));
  return origin + dir.substr(0, dir.rfind('/') + 1) + location;
}

bool is_redirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

std::unique_ptr<httplib::Client> make_client(const std::string& origin) {
  auto client = std::make_unique<httplib::Client>(origin);
  if (!client->is_valid()) throw Error("cannot open a connection to " + origin);
  client->set_connection_timeout(15);
  client->set_read_timeout(120);
  client->set_follow_location(false);
  return client;
}

httplib::Headers request_headers(const std::string& origin, const std::string& first_origin,
                                 const HttpOptions& options) {
  httplib::Headers h{{"User-Agent", "optipfair/0.1"}};
  if (!options.bearer_token.empty() && origin == first_origin)
    h.emplace("Authorization", "Bearer " + options.bearer_token);
  return h;
}

void copy_headers(const httplib::Response& res, HttpResponse& out) {
  out.headers.clear();
  for (const auto& [k, v] : res.headers) out.headers.emplace(lower(k), v);
}

[[noreturn]] void unreachable(const std::string& origin, httplib::Error err) {
  throw Error("could not reach " + origin + " (" + httplib::to_string(err) + ")");
}

// Progress on stderr, only for a person watching a terminal (logs and pipes stay clean).
class ProgressLine {
 public:
  explicit ProgressLine(const std::string& label) : label_(label), on_(!label.empty() && ::isatty(2)) {}
  ~ProgressLine() {
    if (on_ && shown_) std::fprintf(stderr, "\n");
  }
  void update(uint64_t done, uint64_t total) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (shown_ && done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    if (total > 0)
      std::fprintf(stderr, "\r%s: %.1f / %.1f MB", label_.c_str(), done / 1e6, total / 1e6);
    else
      std::fprintf(stderr, "\r%s: %.1f MB", label_.c_str(), done / 1e6);
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

std::pair<std::string, std::string> url_split(const std::string& url) {
  const auto sep = url.find("://");
  const std::string scheme = sep == std::string::npos ? "" : lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") throw Error("'" + url + "' is not an http or https URL");
  const auto slash = url.find('/', sep + 3);
  std::string origin = url.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  if (origin.size() <= sep + 3) throw Error("'" + url + "' has no host");
  return {scheme + origin.substr(sep), path};
}

HttpResponse http_request(const std::string& method, const std::string& url, const HttpOptions& options) {
  const std::string first_origin = url_split(url).first;
  HttpResponse out;
  out.url = url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    auto [origin, path] = url_split(out.url);
    auto client = make_client(origin);
    auto headers = request_headers(origin, first_origin, options);
    httplib::Result res = method == "HEAD" ? client->Head(path, headers) : client->Get(path, headers);
    if (!res) unreachable(origin, res.error());
    out.status = res->status;
    copy_headers(res.value(), out);
    out.body = res->body.size() > kMaxBodyBytes ? res->body.substr(0, kMaxBodyBytes) : res->body;
    if (!is_redirect(out.status) || out.header("location").empty()) return out;
    std::string next = next_url(out.url, out.header("location"));
    if (options.stop_at_other_host && url_split(next).first != origin) return out;
    out.url = next;
  }
  throw Error("too many redirects fetching " + url);
}

HttpResponse http_download(const std::string& url, const std::filesystem::path& file, const HttpOptions& options) {
  const std::string first_origin = url_split(url).first;
  HttpResponse out;
  out.url = url;
  bool restarted = false;
  ProgressLine progress(options.progress_label);
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    std::error_code ec;
    uint64_t offset = std::filesystem::exists(file, ec) ? std::filesystem::file_size(file) : 0;
    std::unique_ptr<FILE, FileCloser> f(std::fopen(file.c_str(), "ab"));
    if (!f) throw Error("cannot write " + file.string());

    auto [origin, path] = url_split(out.url);
    auto client = make_client(origin);
    auto headers = request_headers(origin, first_origin, options);
    if (offset > 0) headers.emplace("Range", "bytes=" + std::to_string(offset) + "-");
    bool write_failed = false;
    bool to_file = false;
    std::string error_body;
    auto on_response = [&](const httplib::Response& r) {
      out.status = r.status;
      copy_headers(r, out);
      to_file = r.status == 200 || r.status == 206;
      if (r.status == 200 && offset > 0) {
        // The server ignored the range: it sends the whole file, so start the file over.
        f.reset(std::fopen(file.c_str(), "wb"));
        if (!f) return false;
        offset = 0;
      }
      return true;
    };
    auto on_data = [&](const char* data, size_t n) {
      if (!to_file) {
        if (error_body.size() < 65536) error_body.append(data, std::min(n, 65536 - error_body.size()));
        return true;
      }
      if (std::fwrite(data, 1, n, f.get()) != n) {
        write_failed = true;
        return false;
      }
      return true;
    };
    auto on_progress = [&](uint64_t done, uint64_t total) {
      if (to_file) progress.update(offset + done, total ? offset + total : 0);
      return true;
    };
    httplib::Result res = client->Get(path, headers, on_response, on_data, on_progress);
    if (write_failed || (f && std::fflush(f.get()) != 0)) throw Error("could not write " + file.string() + " (disk full?)");
    if (!res) unreachable(origin, res.error());
    f.reset();
    if (is_redirect(out.status) && !out.header("location").empty()) {
      out.url = next_url(out.url, out.header("location"));
      continue;
    }
    if (out.status == 416 && offset > 0 && !restarted) {
      // What is on disk does not fit the file the server has now: fetch it whole.
      std::filesystem::remove(file, ec);
      restarted = true;
      --hop;
      continue;
    }
    out.body = error_body;
    return out;
  }
  throw Error("too many redirects fetching " + url);
}

}  // namespace optipfair
