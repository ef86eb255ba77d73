// Model ids resolved in a hand-built cache, and downloads from a hub served on 127.0.0.1 inside
// the test (nothing reaches the real network: HF_ENDPOINT points at the local server).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "io/hf_cache.h"
#include "io/model_formats.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;

// Sets environment variables for one test and puts the old values back afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* n : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HOME", "HF_ENDPOINT",
                          "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE"}) {
      const char* v = std::getenv(n);
      saved_[n] = v ? std::optional<std::string>(v) : std::nullopt;
      ::unsetenv(n);
    }
  }
  ~EnvGuard() {
    for (const auto& [n, v] : saved_) {
      if (v) ::setenv(n.c_str(), v->c_str(), 1);
      else ::unsetenv(n.c_str());
    }
  }
  void set(const char* n, const std::string& v) { ::setenv(n, v.c_str(), 1); }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

// A cached snapshot as huggingface_hub leaves it.
fs::path make_cached_model(const fs::path& root, const std::string& folder, const std::string& commit,
                           const std::string& ref = "main") {
  const fs::path repo = root / folder;
  write_file(repo / "refs" / ref, commit + "\n");
  write_file(repo / "blobs" / "aaa", "{\"model_type\": \"llama\"}");
  write_file(repo / "blobs" / "bbb", "weights");
  const fs::path snap = repo / "snapshots" / commit;
  fs::create_directories(snap);
  fs::create_symlink("../../blobs/aaa", snap / "config.json");
  fs::create_symlink("../../blobs/bbb", snap / "model.safetensors");
  return snap;
}

TEST(HfCache, ParsesIds) {
  HfModelId id = hf_parse_model_id("meta-llama/Llama-3.2-1B");
  EXPECT_EQ(id.org, "meta-llama");
  EXPECT_EQ(id.name, "Llama-3.2-1B");
  EXPECT_EQ(id.revision, "main");
  EXPECT_EQ(hf_parse_model_id("Qwen/Qwen2.5-0.5B@v1.0").revision, "v1.0");
  EXPECT_THROW(hf_parse_model_id("justname"), Error);
  EXPECT_THROW(hf_parse_model_id("a/b/c"), Error);
  EXPECT_THROW(hf_parse_model_id("../etc"), Error);
  EXPECT_THROW(hf_parse_model_id("org/name@../x"), Error);
}

TEST(HfCache, LooksLikeId) {
  test::ScratchDir dir;
  EXPECT_TRUE(looks_like_hf_model_id("HuggingFaceTB/SmolLM2-135M"));
  EXPECT_TRUE(looks_like_hf_model_id("org/name@main"));
  EXPECT_FALSE(looks_like_hf_model_id("model.gguf"));
  EXPECT_FALSE(looks_like_hf_model_id("models/stories.bin"));
  EXPECT_FALSE(looks_like_hf_model_id("/abs/path"));
  EXPECT_FALSE(looks_like_hf_model_id("./org/name"));
  EXPECT_FALSE(looks_like_hf_model_id(""));
  fs::create_directories(dir / "org" / "name");
  EXPECT_FALSE(looks_like_hf_model_id((dir / "org" / "name").string()));
}

TEST(HfCache, CacheRootFollowsHuggingfaceHubPrecedence) {
  EnvGuard env;
  env.set("HOME", "/home/u");
  EXPECT_EQ(hf_cache_root(), fs::path("/home/u/.cache/huggingface/hub"));
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(hf_cache_root(), fs::path("/xdg/huggingface/hub"));
  env.set("HF_HOME", "/hfhome");
  EXPECT_EQ(hf_cache_root(), fs::path("/hfhome/hub"));
  env.set("HF_HUB_CACHE", "/hubcache");
  EXPECT_EQ(hf_cache_root(), fs::path("/hubcache"));
  EXPECT_EQ(hf_endpoint(), "https://huggingface.co");
  env.set("HF_ENDPOINT", "http://mirror.example/");
  EXPECT_EQ(hf_endpoint(), "http://mirror.example");
}

TEST(HfCache, TokenFromEnvOrFile) {
  EnvGuard env;
  test::ScratchDir dir;
  env.set("HF_HOME", dir.path().string());
  EXPECT_EQ(hf_token(), "");
  write_file(dir / "token", "hf_file\n");
  EXPECT_EQ(hf_token(), "hf_file");
  env.set("HF_TOKEN", "hf_env");
  EXPECT_EQ(hf_token(), "hf_env");
}

TEST(HfCache, ResolvesCachedSnapshotThroughRefs) {
  EnvGuard env;
  test::ScratchDir dir;
  env.set("HF_HOME", dir.path().string());
  env.set("HF_ENDPOINT", "http://127.0.0.1:9");  // would fail loudly if anything tried the network
  const fs::path snap = make_cached_model(dir / "hub", "models--org--tiny", kCommit);
  EXPECT_EQ(resolve_hf_model_id("org/tiny", false), snap);
  EXPECT_EQ(resolve_hf_model_id("org/tiny", true), snap);  // cached: no download even when allowed
  EXPECT_EQ(resolve_hf_model_id("org/tiny@" + kCommit, false), snap);
  EXPECT_EQ(read_file(resolve_hf_model_id("org/tiny", false) / "model.safetensors"), "weights");

  const std::string other = "fedcba9876543210fedcba9876543210fedcba98";
  const fs::path branch = make_cached_model(dir / "hub", "models--org--tiny", other, "dev");
  EXPECT_EQ(resolve_hf_model_id("org/tiny@dev", false), branch);
  EXPECT_THROW(resolve_hf_model_id("org/tiny@nobranch", false), Error);
}

TEST(HfCache, HubCacheVariableWins) {
  EnvGuard env;
  test::ScratchDir dir;
  env.set("HF_HOME", (dir / "unused").string());
  env.set("HF_HUB_CACHE", (dir / "elsewhere").string());
  const fs::path snap = make_cached_model(dir / "elsewhere", "models--a--b", kCommit);
  EXPECT_EQ(resolve_hf_model_id("a/b", false), snap);
}

TEST(HfCache, MissingWithoutDownloadIsAClearError) {
  EnvGuard env;
  test::ScratchDir dir;
  env.set("HF_HUB_CACHE", dir.path().string());
  try {
    resolve_hf_model_id("org/absent", false);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not in the Hugging Face cache"), std::string::npos) << e.what();
  }
}

// A miniature hub: the model API, resolve URLs that redirect LFS files to a second server
// (another origin, like a CDN), and per-repository token checks.
class FakeHub {
 public:
  struct Repo {
    std::map<std::string, std::string> files;
    std::string token;  // non-empty: every request needs "Bearer <token>"
  };

  FakeHub() {
    hub_port_ = hub_.bind_to_any_port("127.0.0.1");
    cdn_port_ = cdn_.bind_to_any_port("127.0.0.1");
    hub_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      count(req);
      const Repo* repo = find(req, res, req.matches[1].str() + "/" + req.matches[2].str());
      if (!repo) return;
      nlohmann::json siblings = nlohmann::json::array();
      for (const auto& [name, body] : repo->files) siblings.push_back({{"rfilename", name}});
      siblings.push_back({{"rfilename", "README.md"}});
      res.set_content(nlohmann::json{{"sha", kCommit}, {"siblings", siblings}}.dump(), "application/json");
    });
    hub_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      count(req);
      const Repo* repo = find(req, res, req.matches[1].str() + "/" + req.matches[2].str());
      if (!repo) return;
      auto it = repo->files.find(req.matches[4].str());
      if (it == repo->files.end()) {
        res.status = 404;
        return;
      }
      res.set_header("X-Repo-Commit", kCommit);
      if (it->first.size() > 12 && it->first.substr(it->first.size() - 12) == ".safetensors") {
        const std::string etag = "lfs" + std::to_string(std::hash<std::string>{}(it->second));
        res.set_header("X-Linked-Etag", "\"" + etag + "\"");
        res.set_header("X-Linked-Size", std::to_string(it->second.size()));
        res.set_redirect("http://127.0.0.1:" + std::to_string(cdn_port_) + "/cdn/" + etag, 302);
        std::lock_guard lock(mutex_);
        cdn_files_[etag] = it->second;
        return;
      }
      res.set_header("ETag", "\"git" + std::to_string(std::hash<std::string>{}(it->second)) + "\"");
      res.set_content(it->second, "application/octet-stream");
    });
    cdn_.Get(R"(/cdn/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      if (req.has_header("Authorization")) cdn_saw_token_ = true;
      if (req.has_header("Range")) last_range_ = req.get_header_value("Range");
      auto it = cdn_files_.find(req.matches[1].str());
      if (it == cdn_files_.end()) {
        res.status = 404;
        return;
      }
      res.set_content(it->second, "application/octet-stream");
    });
    hub_thread_ = std::thread([this] { hub_.listen_after_bind(); });
    cdn_thread_ = std::thread([this] { cdn_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost and the join would hang: wait for both.
    while (!hub_.is_running() || !cdn_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    hub_.stop();
    cdn_.stop();
    hub_thread_.join();
    cdn_thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }
  std::string cdn_etag(const std::string& content) const {
    return "lfs" + std::to_string(std::hash<std::string>{}(content));
  }
  std::map<std::string, Repo> repos;
  std::atomic<int> requests{0};
  bool cdn_saw_token() {
    std::lock_guard lock(mutex_);
    return cdn_saw_token_;
  }
  std::string last_range() {
    std::lock_guard lock(mutex_);
    return last_range_;
  }

 private:
  void count(const httplib::Request&) { ++requests; }
  const Repo* find(const httplib::Request& req, httplib::Response& res, const std::string& name) {
    auto it = repos.find(name);
    if (it == repos.end()) {
      res.status = 404;
      return nullptr;
    }
    if (!it->second.token.empty() && req.get_header_value("Authorization") != "Bearer " + it->second.token) {
      res.status = 401;
      return nullptr;
    }
    return &it->second;
  }

  httplib::Server hub_, cdn_;
  int hub_port_ = 0, cdn_port_ = 0;
  std::thread hub_thread_, cdn_thread_;
  std::mutex mutex_;
  std::map<std::string, std::string> cdn_files_;
  bool cdn_saw_token_ = false;
  std::string last_range_;
};

std::string big_blob(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 2654435761u) >> 13);
  return s;
}

FakeHub::Repo tiny_repo() {
  FakeHub::Repo r;
  r.files["config.json"] = "{\"model_type\": \"llama\", \"hidden_size\": 64}";
  r.files["tokenizer.json"] = "{\"model\": {}}";
  r.files["model.safetensors"] = big_blob(300000);
  r.files["pytorch_model.bin"] = "never wanted";
  return r;
}

struct HubTest : ::testing::Test {
  EnvGuard env;
  test::ScratchDir dir;
  FakeHub hub;
  fs::path cache() const { return dir / "hub"; }
  void SetUp() override {
    env.set("HF_HOME", dir.path().string());
    env.set("HF_ENDPOINT", hub.endpoint());
  }
};

TEST_F(HubTest, DownloadsIntoTheCacheLayout) {
  hub.repos["org/tiny"] = tiny_repo();
  const fs::path snap = resolve_hf_model_id("org/tiny", true);
  const fs::path repo = cache() / "models--org--tiny";
  EXPECT_EQ(snap, repo / "snapshots" / kCommit);
  EXPECT_EQ(read_file(repo / "refs" / "main"), kCommit);
  for (const auto& [name, body] : hub.repos["org/tiny"].files) {
    if (name == "pytorch_model.bin") {
      EXPECT_FALSE(fs::exists(snap / name));
      continue;
    }
    EXPECT_TRUE(fs::is_symlink(snap / name)) << name;
    EXPECT_EQ(read_file(snap / name), body) << name;
  }
  // LFS blobs are named by their linked etag, as huggingface_hub names them.
  const std::string etag = hub.cdn_etag(hub.repos["org/tiny"].files["model.safetensors"]);
  EXPECT_EQ(fs::read_symlink(snap / "model.safetensors"), fs::path("../../blobs/" + etag));
  // A second resolve is served from the cache.
  const int before = hub.requests;
  EXPECT_EQ(resolve_hf_model_id("org/tiny", true), snap);
  EXPECT_EQ(hub.requests, before);
}

TEST_F(HubTest, ResumesAPartialDownload) {
  hub.repos["org/tiny"] = tiny_repo();
  const std::string& weights = hub.repos["org/tiny"].files["model.safetensors"];
  const fs::path partial = cache() / "models--org--tiny" / "blobs" / (hub.cdn_etag(weights) + ".incomplete");
  write_file(partial, weights.substr(0, 120000));
  const fs::path snap = resolve_hf_model_id("org/tiny", true);
  EXPECT_EQ(hub.last_range(), "bytes=120000-");
  EXPECT_EQ(read_file(snap / "model.safetensors"), weights);
  EXPECT_FALSE(fs::exists(partial));
}

TEST_F(HubTest, TokenIsSentToTheHubButNotToTheCdn) {
  FakeHub::Repo gated = tiny_repo();
  gated.token = "secret";
  hub.repos["org/gated"] = gated;
  try {
    resolve_hf_model_id("org/gated", true);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HF_TOKEN"), std::string::npos) << e.what();
  }
  env.set("HF_TOKEN", "wrong");
  EXPECT_THROW(resolve_hf_model_id("org/gated", true), Error);
  env.set("HF_TOKEN", "secret");
  const fs::path snap = resolve_hf_model_id("org/gated", true);
  EXPECT_EQ(read_file(snap / "model.safetensors"), gated.files["model.safetensors"]);
  EXPECT_FALSE(hub.cdn_saw_token());
}

TEST_F(HubTest, UnknownModelIsNotFound) {
  try {
    resolve_hf_model_id("org/missing", true);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST_F(HubTest, OfflineModeNeverAsks) {
  hub.repos["org/tiny"] = tiny_repo();
  env.set("HF_HUB_OFFLINE", "1");
  EXPECT_THROW(resolve_hf_model_id("org/tiny", true), Error);
  EXPECT_EQ(hub.requests, 0);
}

TEST_F(HubTest, ShardedWeightsFollowTheIndex) {
  FakeHub::Repo r;
  r.files["config.json"] = "{}";
  r.files["model-00001-of-00002.safetensors"] = big_blob(1000);
  r.files["model-00002-of-00002.safetensors"] = big_blob(2000);
  r.files["model.safetensors.index.json"] =
      R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})";
  hub.repos["org/sharded"] = r;
  const fs::path snap = resolve_hf_model_id("org/sharded@main", true);
  EXPECT_EQ(read_file(snap / "model-00002-of-00002.safetensors"), r.files["model-00002-of-00002.safetensors"]);
}

TEST_F(HubTest, RepositoryWithoutWeightsIsRefused) {
  FakeHub::Repo r;
  r.files["config.json"] = "{}";
  hub.repos["org/noweights"] = r;
  EXPECT_THROW(resolve_hf_model_id("org/noweights", true), Error);
}

}  // namespace
}  // namespace optipfair
