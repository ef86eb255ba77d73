#include "io/hf_cache.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/http_download.h"
#include "io/model_formats.h"
#include "util/error.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

// What a model needs here; everything else in a repository (other weight formats, images) is skipped.
const std::vector<std::string> kWantedFiles = {
    "config.json",           "generation_config.json",  "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "model.safetensors",     "model.safetensors.index.json"};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool env_true(const char* name) {
  std::string v = env(name);
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw Error("could not write " + p.string());
}

bool valid_segment(const std::string& s) {
  if (s.empty() || s.size() > 96 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  if (s.find("..") != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool valid_revision(const std::string& r) {
  if (r.empty() || r.find("..") != std::string::npos || r[0] == '/' || r.back() == '/') return false;
  return std::all_of(r.begin(), r.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

bool is_commit_hash(const std::string& r) {
  return r.size() == 40 && std::all_of(r.begin(), r.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

fs::path repo_folder(const fs::path& root, const HfModelId& id) {
  return root / ("models--" + id.org + "--" + id.name);
}

// config.json and every weight file it needs are there (symlinks followed).
bool snapshot_complete(const fs::path& snap) {
  std::error_code ec;
  if (!fs::is_regular_file(snap / "config.json", ec)) return false;
  if (fs::is_regular_file(snap / "model.safetensors", ec)) return true;
  const fs::path index = snap / "model.safetensors.index.json";
  if (!fs::is_regular_file(index, ec)) return false;
  try {
    auto j = nlohmann::json::parse(read_text(index));
    for (const auto& [name, file] : j.at("weight_map").items())
      if (!fs::is_regular_file(snap / file.get<std::string>(), ec)) return false;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// huggingface_hub quotes the revision with no safe characters ("refs/pr/1" -> "refs%2Fpr%2F1").
std::string quote_all(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// ETag values come quoted and sometimes weak (W/"..."); the blob is named by the bare value.
std::string etag_value(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  e.erase(std::remove(e.begin(), e.end(), '"'), e.end());
  return e;
}

[[noreturn]] void access_error(const HfModelId& id, int status) {
  if (status == 401 || status == 403) {
    if (hf_token().empty())
      throw Error("model " + id.repo() + " needs authentication (HTTP " + std::to_string(status) +
                  "): set HF_TOKEN to a Hugging Face token that has access to it");
    throw Error("the token in HF_TOKEN has no access to model " + id.repo() + " (HTTP " + std::to_string(status) + ")");
  }
  if (status == 404)
    throw Error("model " + id.repo() + " (revision " + id.revision + ") was not found on " + hf_endpoint());
  throw Error("the hub at " + hf_endpoint() + " answered HTTP " + std::to_string(status) + " for model " + id.repo());
}

class SnapshotDownloader {
 public:
  SnapshotDownloader(const fs::path& root, const HfModelId& id) : id_(id), repo_(repo_folder(root, id)) {
    options_.bearer_token = hf_token();
    if (is_commit_hash(id.revision)) commit_ = id.revision;
  }

  fs::path run() {
    std::vector<std::string> files = list_files();
    for (const auto& f : files) fetch(f, f == "config.json");
    if (commit_.empty()) throw Error("model " + id_.repo() + " has no config.json on " + hf_endpoint());
    const fs::path snap = repo_ / "snapshots" / commit_;
    // Sharded weights: the index names the shards.
    const fs::path index = snap / "model.safetensors.index.json";
    if (fs::exists(index)) {
      std::set<std::string> shards;
      try {
        const auto j = nlohmann::json::parse(read_text(index));
        for (const auto& [name, file] : j.at("weight_map").items()) shards.insert(file.get<std::string>());
      } catch (const std::exception&) {
        throw Error("model " + id_.repo() + " has an unreadable model.safetensors.index.json");
      }
      for (const auto& s : shards) fetch(s, true);
    }
    if (!id_.revision.empty() && id_.revision != commit_) write_text(repo_ / "refs" / id_.revision, commit_);
    if (!snapshot_complete(snap))
      throw Error("model " + id_.repo() + " has no safetensors weights on " + hf_endpoint() +
                  " (optipfair reads model.safetensors or its shards)");
    return snap;
  }

 private:
  std::string revision_in_url() const { return quote_all(commit_.empty() ? id_.revision : commit_); }

  // The repository's file list from the API, narrowed to what a model needs. A hub without the
  // API (some mirrors) gets every known name tried instead.
  std::vector<std::string> list_files() {
    const std::string url =
        hf_endpoint() + "/api/models/" + id_.repo() + "/revision/" + quote_all(id_.revision);
    HttpResponse r = http_request("GET", url, options_);
    if (r.status == 401 || r.status == 403 || r.status == 404) access_error(id_, r.status);
    if (r.status != 200) return kWantedFiles;
    try {
      auto j = nlohmann::json::parse(r.body);
      if (j.contains("sha") && j["sha"].is_string() && is_commit_hash(j["sha"].get<std::string>()))
        commit_ = j["sha"].get<std::string>();
      std::set<std::string> present;
      for (const auto& s : j.at("siblings")) present.insert(s.at("rfilename").get<std::string>());
      std::vector<std::string> files;
      for (const auto& f : kWantedFiles)
        if (present.count(f)) files.push_back(f);
      return files;
    } catch (const std::exception&) {
      return kWantedFiles;
    }
  }

  // One file: its metadata from a HEAD (commit, etag, size), the blob downloaded unless the cache
  // has it, and the snapshot's symlink to it.
  void fetch(const std::string& file, bool required) {
    const std::string url = hf_endpoint() + "/" + id_.repo() + "/resolve/" + revision_in_url() + "/" + file;
    HttpOptions head_options = options_;
    head_options.stop_at_other_host = true;  // the hub's own answer carries the commit and etag
    HttpResponse head = http_request("HEAD", url, head_options);
    if (head.status == 404 && !required) return;
    if (head.status >= 400) {
      if (head.status == 404) throw Error("model " + id_.repo() + " has no " + file + " on " + hf_endpoint());
      access_error(id_, head.status);
    }
    if (std::string c = head.header("x-repo-commit"); commit_.empty() && is_commit_hash(c)) commit_ = c;
    if (commit_.empty()) throw Error("the hub at " + hf_endpoint() + " did not say which commit " + file + " is from");

    std::string etag = etag_value(head.header("x-linked-etag"));
    if (etag.empty()) etag = etag_value(head.header("etag"));
    if (etag.empty() || !valid_segment(etag)) etag = commit_ + "-" + quote_all(file);
    std::string size_text = head.header("x-linked-size");
    if (size_text.empty() && !is_redirect_status(head.status)) size_text = head.header("content-length");

    const fs::path pointer = repo_ / "snapshots" / commit_ / file;
    const fs::path blob = repo_ / "blobs" / etag;
    std::error_code ec;
    if (fs::exists(pointer, ec)) return;
    fs::create_directories(blob.parent_path());
    if (!fs::exists(blob, ec)) {
      const fs::path partial = blob.string() + ".incomplete";
      HttpOptions get_options = options_;
      get_options.progress_label = id_.repo() + "/" + file;
      HttpResponse r = http_download(url, partial, get_options);
      if (r.status != 200 && r.status != 206) {
        if (r.status == 404) throw Error("model " + id_.repo() + " has no " + file + " on " + hf_endpoint());
        access_error(id_, r.status);
      }
      if (!size_text.empty() && std::to_string(fs::file_size(partial)) != size_text)
        throw Error("download of " + file + " for " + id_.repo() + " stopped early (" +
                    std::to_string(fs::file_size(partial)) + " of " + size_text + " bytes); run again to resume");
      fs::rename(partial, blob);
    }
    link_pointer(pointer, blob, file);
  }

  static bool is_redirect_status(int s) { return s >= 300 && s < 400; }

  // A relative link, as huggingface_hub makes, so the cache folder can be moved as a whole;
  // where links are impossible the blob is copied instead.
  void link_pointer(const fs::path& pointer, const fs::path& blob, const std::string& file) {
    fs::create_directories(pointer.parent_path());
    std::string target;
    const auto depth = std::distance(fs::path(file).begin(), fs::path(file).end());
    for (long i = 0; i < depth + 1; ++i) target += "../";
    target += "blobs/" + blob.filename().string();
    std::error_code ec;
    fs::remove(pointer, ec);  // a dangling link left by a blob deleted by hand
    fs::create_symlink(target, pointer, ec);
    if (ec) fs::copy_file(blob, pointer, fs::copy_options::overwrite_existing);
  }

  HfModelId id_;
  fs::path repo_;
  std::string commit_;
  HttpOptions options_;
};

}  // namespace

HfModelId hf_parse_model_id(const std::string& s) {
  HfModelId id;
  std::string repo = s;
  if (auto at = s.find('@'); at != std::string::npos) {
    repo = s.substr(0, at);
    id.revision = s.substr(at + 1);
    if (!valid_revision(id.revision)) throw Error("'" + s + "' has an invalid revision after '@'");
  }
  auto slash = repo.find('/');
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos)
    throw Error("'" + s + "' is not a Hugging Face model id (expected org/name)");
  id.org = repo.substr(0, slash);
  id.name = repo.substr(slash + 1);
  if (!valid_segment(id.org) || !valid_segment(id.name))
    throw Error("'" + s + "' is not a Hugging Face model id (expected org/name with letters, digits, '-', '_', '.')");
  return id;
}

fs::path hf_cache_root() {
  if (auto v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (auto v = env("HUGGINGFACE_HUB_CACHE"); !v.empty()) return v;  // older huggingface_hub name
  if (auto v = env("HF_HOME"); !v.empty()) return fs::path(v) / "hub";
  if (auto v = env("XDG_CACHE_HOME"); !v.empty()) return fs::path(v) / "huggingface" / "hub";
  if (auto v = env("HOME"); !v.empty()) return fs::path(v) / ".cache" / "huggingface" / "hub";
  throw Error("cannot find the Hugging Face cache: set HF_HUB_CACHE or HF_HOME");
}

std::string hf_endpoint() {
  std::string e = env("HF_ENDPOINT");
  if (e.empty()) e = "https://huggingface.co";
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::string hf_token() {
  if (auto v = trim(env("HF_TOKEN")); !v.empty()) return v;
  fs::path file;
  if (auto v = env("HF_TOKEN_PATH"); !v.empty()) file = v;
  else if (auto h = env("HF_HOME"); !h.empty()) file = fs::path(h) / "token";
  else if (auto x = env("XDG_CACHE_HOME"); !x.empty()) file = fs::path(x) / "huggingface" / "token";
  else if (auto home = env("HOME"); !home.empty()) file = fs::path(home) / ".cache" / "huggingface" / "token";
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec)) return "";
  return trim(read_text(file));
}

fs::path hf_cached_snapshot(const fs::path& root, const HfModelId& id) {
  const fs::path repo = repo_folder(root, id);
  std::error_code ec;
  if (!fs::is_directory(repo / "snapshots", ec)) return {};
  std::string commit = id.revision;
  if (!is_commit_hash(commit)) {
    commit = trim(read_text(repo / "refs" / id.revision));
    if (commit.empty() && id.revision == "main") {
      // Copied caches sometimes lose refs/; a single snapshot is unambiguous.
      std::vector<fs::path> snaps;
      for (const auto& e : fs::directory_iterator(repo / "snapshots", ec)) snaps.push_back(e.path());
      if (snaps.size() == 1) return snaps[0];
    }
    if (commit.empty()) return {};
  }
  const fs::path snap = repo / "snapshots" / commit;
  return fs::is_directory(snap, ec) ? snap : fs::path();
}

fs::path hf_download_snapshot(const fs::path& root, const HfModelId& id) {
  return SnapshotDownloader(root, id).run();
}

fs::path resolve_hf_model_id(const std::string& s, bool allow_download) {
  const HfModelId id = hf_parse_model_id(s);
  const fs::path root = hf_cache_root();
  const fs::path snap = hf_cached_snapshot(root, id);
  if (!snap.empty() && snapshot_complete(snap)) return snap;
  const bool offline = env_true("HF_HUB_OFFLINE");
  if (allow_download && !offline) return hf_download_snapshot(root, id);
  if (!snap.empty()) return snap;  // the loader names what is missing
  throw Error("model " + id.repo() + " is not in the Hugging Face cache (" + root.string() + ") and " +
              (offline ? "HF_HUB_OFFLINE is set" : "downloading is off"));
}

bool looks_like_hf_model_id(const std::string& s) {
  std::error_code ec;
  if (s.empty() || fs::exists(s, ec)) return false;
  for (const char* ext : {".gguf", ".bin", ".safetensors", ".json"})
    if (s.size() >= std::string(ext).size() && s.compare(s.size() - std::string(ext).size(), std::string::npos, ext) == 0)
      return false;
  try {
    hf_parse_model_id(s);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace optipfair
