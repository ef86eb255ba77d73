#include "serve/server.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

#include <unistd.h>

#include "serve/server_state.h"
#include "serve/web_assets.h"
#include "io/hf_cache.h"
#include "util/error.h"

namespace optipfair {

namespace {

constexpr const char* kCookie = "optipfair_token";

// No inline script or style, nothing from another origin; figures come from our own API.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

std::string host_name_of(const std::string& host_header) {
  if (!host_header.empty() && host_header[0] == '[') {
    const size_t end = host_header.find(']');
    return end == std::string::npos ? host_header : host_header.substr(0, end + 1);
  }
  return host_header.substr(0, host_header.find(':'));
}

bool same_text(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  // Every byte is compared whatever the first difference, so the time taken says nothing about the token.
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  const std::string cookies = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string item = cookies.substr(pos, end - pos);
    item.erase(0, item.find_first_not_of(' '));
    if (item.rfind(name + "=", 0) == 0) return item.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

bool authorised(const ServerState& s, const httplib::Request& req) {
  if (s.options.token.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0 && same_text(auth.substr(7), s.options.token)) return true;
  if (same_text(cookie_value(req, kCookie), s.options.token)) return true;
  return req.method == "GET" && req.has_param("token") && same_text(req.get_param_value("token"), s.options.token);
}

// Rejects what must never reach a handler; returns true when it answered.
bool refuse(const ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const std::string host = host_name_of(req.get_header_value("Host"));
  if (s.options.token.empty() && host != "localhost" && host != "127.0.0.1" && host != "[::1]") {
    send_error(res, 403, "this server answers requests addressed to localhost only");
    return true;
  }
  if (!authorised(s, req)) {
    send_error(res, 401, "this server needs its access token: open the URL it printed at start");
    return true;
  }
  if (req.method == "POST") {
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty()) {
      const size_t scheme = origin.find("://");
      if (scheme == std::string::npos || origin.substr(scheme + 3) != req.get_header_value("Host")) {
        send_error(res, 403, "requests from another site are refused");
        return true;
      }
    }
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      send_error(res, 415, "send the request body as application/json");
      return true;
    }
  }
  return false;
}

}  // namespace

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::ordered_json{{"error", message}}.dump(), "application/json");
}

void send_json(httplib::Response& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

bool host_is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string make_access_token() {
  std::random_device rd;
  std::string out;
  char buf[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    out += buf;
  }
  return out;
}

struct Server::State : ServerState {};

Server::Server(ServeOptions options) : state_(std::make_unique<State>()) {
  ServerState& s = *state_;
  if (!host_is_loopback(options.host) && options.token.size() < 16)
    throw Error("serving on " + options.host + " (not this machine only) needs an access token of 16 characters or more");
  if (options.port < 0 || options.port > 65535) throw Error("--port must be from 0 to 65535");
  std::error_code ec;
  std::filesystem::create_directories(options.output_dir, ec);
  if (!std::filesystem::is_directory(options.output_dir, ec))
    throw Error("cannot make the output folder " + options.output_dir.string());
  s.catalog.model_paths = options.model_paths;
  s.catalog.roots = catalog_roots(options.models_dirs, options.output_dir);
  s.catalog.hf_cache = options.hf_cache ? hf_cache_root() : std::filesystem::path();
  s.catalog.demo = options.demo;
  s.pool = std::make_unique<ModelPool>(options.max_resident_models);
  s.queue = std::make_unique<JobQueue>(options.workers);
  s.options = std::move(options);

  httplib::Server& http = s.http;
  http.set_payload_max_length(s.options.max_body_bytes);
  // Event streams hold a thread each while a job runs; keep enough for several tabs.
  http.new_task_queue = [] { return new httplib::ThreadPool(16); };
  http.set_default_headers({{"Content-Security-Policy", kContentSecurityPolicy},
                            {"X-Content-Type-Options", "nosniff"},
                            {"Referrer-Policy", "no-referrer"},
                            {"Cache-Control", "no-store"}});
  http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    return refuse(s, req, res) ? httplib::Server::HandlerResponse::Handled : httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const Error& e) {
      send_error(res, 400, e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
    }
  });
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 413) send_error(res, 413, "the request is larger than the server takes");
    else if (res.body.empty()) send_error(res, res.status, "nothing here: " + req.path.substr(0, 200));
  });
  auto serve_asset = [&s](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* asset = web_asset_find(req.path);
    if (!asset) return send_error(res, 404, "nothing here");
    if (!s.options.token.empty() && req.has_param("token"))
      res.set_header("Set-Cookie", std::string(kCookie) + "=" + s.options.token + "; HttpOnly; SameSite=Strict; Path=/");
    res.set_content(std::string(asset->bytes), std::string(asset->mime).c_str());
  };
  http.Get("/", serve_asset);
  http.Get(R"(/[a-z]+\.(js|css|svg))", serve_asset);
  add_api_routes(s);
}

Server::~Server() {
  stop();
}

int Server::bind() {
  ServerState& s = *state_;
  const int port = s.options.port == 0 ? s.http.bind_to_any_port(s.options.host)
                                       : (s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1);
  if (port < 0) throw Error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + " (in use, or not an address of this machine)");
  s.port = port;
  return port;
}

void Server::run() {
  if (state_->port == 0) bind();
  state_->http.listen_after_bind();
}

void Server::stop() {
  if (state_->http.is_running()) state_->http.stop();
}

std::string Server::url() const {
  const ServerState& s = *state_;
  std::string host = s.options.host;
  if (host == "0.0.0.0" || host == "::") {  // every address: name the machine, which other machines can reach
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) == 0 && name[0]) host = name;
  }
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string u = "http://" + host + ":" + std::to_string(s.port) + "/";
  if (!s.options.token.empty()) u += "?token=" + s.options.token;
  return u;
}

}  // namespace optipfair
