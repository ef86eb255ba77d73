// Plain HTTP(S) GET and HEAD for fetching model files, on cpp-httplib with OpenSSL.
// Redirects are followed by hand so that the bearer token only ever goes to the host it was
// meant for (a CDN that a model host redirects to must not receive it).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace optipfair {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // small bodies only (JSON, error text)
  std::string url;                             // the URL that answered, after redirects

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpOptions {
  std::string bearer_token;            // sent as "Authorization: Bearer ..." to the first URL's host only
  bool stop_at_other_host = false;     // return a redirect to another host instead of following it
  std::string progress_label;          // non-empty: show progress on stderr when it is a terminal
};

// HEAD (`method` "HEAD") or GET of a small resource, body kept in memory (capped at 64 MiB).
// Throws Error when the server cannot be reached; HTTP error statuses are returned, not thrown.
HttpResponse http_request(const std::string& method, const std::string& url, const HttpOptions& options = {});

// GETs `url` into `file`, resuming after the bytes already in it with a Range request (and
// starting over when the server ignores the range). Returns the final response, body empty.
// On an HTTP error status the file keeps what it had and the status is returned.
HttpResponse http_download(const std::string& url, const std::filesystem::path& file, const HttpOptions& options = {});

// "https://host:port/path?q" -> {"https://host:port", "/path?q"}; throws Error when not http(s).
std::pair<std::string, std::string> url_split(const std::string& url);

}  // namespace optipfair
