#include "serve_fixture.h"

namespace optipfair::test {

namespace fs = std::filesystem;

void ServeFixture::start(ServeOptions options) {
  zoo_ = scratch_ / "zoo";
  output_ = scratch_ / "out";
  fs::create_directories(zoo_);
  if (have_stories()) fs::copy(stories(), zoo_ / "stories", fs::copy_options::recursive);
  options.host = options.host.empty() ? "127.0.0.1" : options.host;
  options.port = 0;
  options.models_dirs = {zoo_};
  if (have_stories()) options.model_paths = {stories().string()};
  options.output_dir = output_;
  options.hf_cache = false;
  token_ = options.token;
  server_ = std::make_unique<Server>(options);
  port_ = server_->bind();
  thread_ = std::thread([this] { server_->run(); });
  // The socket is bound already, so the first request queues until the loop accepts it.
}

void ServeFixture::TearDown() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

httplib::Client ServeFixture::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(120, 0);
  if (!token_.empty()) c.set_bearer_token_auth(token_.c_str());
  return c;
}

httplib::Result ServeFixture::get(const std::string& path) const { return client().Get(path.c_str()); }

httplib::Result ServeFixture::post(const std::string& path, const nlohmann::json& body) const {
  httplib::Headers h{{"Origin", "http://127.0.0.1:" + std::to_string(port_)}};
  return client().Post(path.c_str(), h, body.dump(), "application/json");
}

nlohmann::json ServeFixture::wait_job(const std::string& id) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    nlohmann::json j = body_json(get("/api/jobs/" + id));
    const std::string s = j.value("state", "");
    if (s != "queued" && s != "running") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "job " << id << " did not finish in 300 s";
  return {};
}

nlohmann::json ServeFixture::run_job(const std::string& path, const nlohmann::json& body) const {
  auto r = post(path, body);
  if (!r) {
    ADD_FAILURE() << "no answer from " << path;
    return {};
  }
  EXPECT_EQ(r->status, 202) << r->body;
  const nlohmann::json snap = body_json(r);
  if (!snap.contains("id")) return snap;
  return wait_job(snap["id"].get<std::string>());
}

nlohmann::json body_json(const httplib::Result& r) {
  if (!r) {
    ADD_FAILURE() << "no answer: " << httplib::to_string(r.error());
    return {};
  }
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "not JSON (" << r->status << "): " << r->body.substr(0, 300);
  return j;
}

}  // namespace optipfair::test
