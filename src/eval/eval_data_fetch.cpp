#include "eval/eval_data_fetch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/hf_cache.h"
#include "io/http_download.h"
#include "io/sha256.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/text_file.h"

namespace optipfair {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int64_t kPageRows = 100;              // the rows API's largest page
constexpr int64_t kMaxRows = 10'000'000;        // far above any split a task reads
constexpr const char* kChecksums = ".checksums.json";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool env_true(const char* name) {
  const std::string v = env(name);
  return v == "1" || v == "true" || v == "TRUE" || v == "yes" || v == "ON" || v == "on";
}

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string describe(const HubSplit& s) { return s.dataset + " (" + s.config + ", " + s.split + ")"; }

// The rows cache's file name stem of a split.
std::string rows_stem(const HubSplit& s) {
  std::string stem = s.dataset + "--" + s.config + "--" + s.split;
  for (char& c : stem)
    if (c == '/') c = '_';
  return stem;
}

// SHA-256 of every file written into the cache's data folder, as recorded when it was written.
class Checksums {
 public:
  explicit Checksums(fs::path data) : data_(std::move(data)) {
    const std::string text = read_all(data_ / kChecksums);
    const json j = json::parse(text, nullptr, false);
    if (j.is_object())
      for (const auto& [k, v] : j.items())
        if (v.is_string()) sums_[k] = v.get<std::string>();
  }
  // Files of `relative` that exist but differ from their record (or have none).
  std::vector<std::string> damaged(const std::vector<std::string>& relative) const {
    std::vector<std::string> out;
    for (const std::string& r : relative) {
      std::error_code ec;
      if (!fs::exists(data_ / r, ec)) continue;
      auto it = sums_.find(r);
      if (it == sums_.end() || sha256_file_hex(data_ / r) != it->second) out.push_back(r);
    }
    return out;
  }
  void record(const std::string& relative, const std::string& sha) { sums_[relative] = sha; }
  void forget(const std::string& relative) { sums_.erase(relative); }
  void save() const {
    json j = json::object();
    for (const auto& [k, v] : sums_) j[k] = v;
    write_text_file(data_ / kChecksums, j.dump(2) + "\n");
  }

 private:
  fs::path data_;
  std::map<std::string, std::string> sums_;
};

class Fetcher {
 public:
  Fetcher(const std::string& task, EvalDataFetchOptions o) : task_(task), o_(std::move(o)) {
    if (o_.rows_endpoint.empty()) o_.rows_endpoint = env("OPTIPFAIR_DATASETS_SERVER");
    if (o_.rows_endpoint.empty()) o_.rows_endpoint = "https://datasets-server.huggingface.co";
    if (o_.raw_endpoint.empty()) o_.raw_endpoint = env("OPTIPFAIR_RAW_FILES");
    if (o_.raw_endpoint.empty()) o_.raw_endpoint = "https://raw.githubusercontent.com";
    o_.rows_endpoint = without_trailing_slash(o_.rows_endpoint);
    o_.raw_endpoint = without_trailing_slash(o_.raw_endpoint);
    http_.bearer_token = hf_token();
  }

  // All rows of `split`, from the cache's rows folder or fetched page by page (resuming after the
  // rows an interrupted fetch already wrote).
  std::vector<json> rows(const HubSplit& split, json& features) {
    const fs::path dir = o_.cache_dir / "rows";
    fs::create_directories(dir);
    const std::string stem = rows_stem(split);
    const fs::path done = dir / (stem + ".jsonl"), partial = dir / (stem + ".jsonl.incomplete"),
                   feats = dir / (stem + ".features.json");
    std::error_code ec;
    if (!fs::exists(done, ec)) download_rows(split, partial, feats, done);
    features = json::parse(read_all(feats), nullptr, false);
    std::vector<json> out;
    std::istringstream in(read_all(done));
    std::string line;
    while (std::getline(in, line)) {
      json row = json::parse(line, nullptr, false);
      if (row.is_discarded()) throw Error("the cached rows of " + describe(split) + " in " + done.string() + " are damaged; delete the file to fetch them again");
      out.push_back(std::move(row));
    }
    return out;
  }

  // `source`'s file, downloaded and checked against its pinned SHA-256; returns its bytes.
  std::string raw_file(const RawSource& source) {
    const fs::path dir = o_.cache_dir / "raw";
    fs::create_directories(dir);
    std::string name = source.file;
    for (char& c : name)
      if (c == '/') c = '_';
    const fs::path partial = dir / (name + ".incomplete");
    const std::string url = o_.raw_endpoint + "/" + source.path;
    HttpOptions h;
    h.progress_label = o_.progress ? "fetch " + source.file : "";
    const HttpResponse r = with_retries([&] { return http_download(url, partial, h); });
    if (r.status != 200 && r.status != 206) throw refused(url, r.status);
    std::string bytes = read_all(partial);
    std::error_code ec;
    fs::remove(partial, ec);
    if (sha256_hex(bytes) != source.sha256)
      throw Error("task " + task_ + ": " + url + " is not the file the task was written for (its SHA-256 is " +
                  sha256_hex(bytes) + ", expected " + source.sha256 + "); point --data-dir at a copy of the original");
    return bytes;
  }

 private:
  template <class F>
  HttpResponse with_retries(F request) {
    int delay = o_.retry_delay_ms;
    for (int attempt = 1;; ++attempt) {
      HttpResponse r;
      try {
        r = request();
      } catch (const Error& e) {
        throw Error("task " + task_ + " could not fetch its data: " + e.what() +
                    "; check the connection, or point --data-dir at a local copy");
      }
      const bool busy = r.status == 429 || r.status >= 500;
      if (!busy || attempt == 4) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      delay *= 2;
    }
  }

  Error refused(const std::string& url, int status) const {
    std::string why = "HTTP " + std::to_string(status);
    if (status == 401 || status == 403) why += ": the data set may be gated; set HF_TOKEN to a token that has access";
    if (status == 404) why += ": not found";
    return Error("task " + task_ + " could not fetch its data from " + url + " (" + why +
                 "); point --data-dir at a local copy");
  }

  void download_rows(const HubSplit& split, const fs::path& partial, const fs::path& feats, const fs::path& done) {
    // Resume: keep the complete lines an interrupted fetch wrote, drop a half-written last one.
    std::string have = read_all(partial);
    have.resize(have.rfind('\n') == std::string::npos ? 0 : have.rfind('\n') + 1);
    int64_t offset = static_cast<int64_t>(std::count(have.begin(), have.end(), '\n'));
    {
      std::ofstream rewrite(partial, std::ios::binary | std::ios::trunc);
      rewrite << have;
      if (!rewrite) throw Error("cannot write " + partial.string());
    }
    std::ofstream out(partial, std::ios::binary | std::ios::app);
    int64_t total = -1;
    std::unique_ptr<Progress> progress;
    for (;;) {
      const std::string url = o_.rows_endpoint + "/rows?dataset=" + url_encode(split.dataset) + "&config=" +
                              url_encode(split.config) + "&split=" + url_encode(split.split) +
                              "&offset=" + std::to_string(offset) + "&length=" + std::to_string(kPageRows);
      const HttpResponse r = with_retries([&] { return http_request("GET", url, http_); });
      if (r.status != 200) throw refused(url, r.status);
      const json page = json::parse(r.body, nullptr, false);
      const auto bad = [&](const std::string& what) {
        return Error("task " + task_ + ": the rows of " + describe(split) + " from " + o_.rows_endpoint + " " + what);
      };
      if (!page.is_object() || !page.contains("rows") || !page["rows"].is_array() ||
          !page.contains("num_rows_total") || !page["num_rows_total"].is_number_integer())
        throw bad("are not the rows API's JSON");
      if (page.value("partial", false)) throw bad("are partial (the viewer holds only part of the split)");
      const int64_t n = page["num_rows_total"].get<int64_t>();
      if (n < 0 || n > kMaxRows || (total >= 0 && n != total)) throw bad("give an impossible or changing row count");
      total = n;
      if (!progress && o_.progress) progress = std::make_unique<Progress>("fetch " + split.dataset, total);
      if (offset == 0 || !std::filesystem::exists(feats)) write_text_file(feats, page.value("features", json::array()).dump());
      const json& rows = page["rows"];
      if (rows.empty() && offset < total) throw bad("stopped at row " + std::to_string(offset) + " of " + std::to_string(total));
      for (const json& r2 : rows) {
        if (!r2.is_object() || r2.value("row_idx", int64_t{-1}) != offset || !r2.contains("row") || !r2["row"].is_object())
          throw bad("are out of order at row " + std::to_string(offset));
        if (r2.contains("truncated_cells") && !r2["truncated_cells"].empty()) throw bad("have truncated cells");
        out << r2["row"].dump() << '\n';
        ++offset;
      }
      out.flush();
      if (!out) throw Error("cannot write " + partial.string());
      if (progress) progress->set(offset);
      if (offset >= total) break;
    }
    out.close();
    fs::rename(partial, done);
  }

  std::string task_;
  EvalDataFetchOptions o_;
  HttpOptions http_;
};

}  // namespace

fs::path eval_data_cache_dir() {
  if (auto v = env("OPTIPFAIR_CACHE"); !v.empty()) return fs::path(v) / "eval-data";
  if (auto v = env("XDG_CACHE_HOME"); !v.empty()) return fs::path(v) / "optipfair" / "eval-data";
  if (auto v = env("HOME"); !v.empty()) return fs::path(v) / ".cache" / "optipfair" / "eval-data";
  throw Error("cannot find a cache folder for evaluation data: set OPTIPFAIR_CACHE");
}

bool eval_data_present(const TaskDataSource& source, const fs::path& dir) {
  if (dir.empty()) return false;
  std::error_code ec;
  size_t found = 0;
  for (const std::string& f : source.files) found += fs::is_regular_file(dir / f, ec) ? 1 : 0;
  return source.any_file ? found > 0 : found == source.files.size();
}

fs::path eval_data_for_task(const std::string& task, const fs::path& data_dir, const EvalDataFetchOptions& options) {
  const TaskDataSource* source = task_data_source(task);
  if (!source || eval_data_present(*source, data_dir)) return data_dir;
  EvalDataFetchOptions o = options;
  if (o.cache_dir.empty()) o.cache_dir = eval_data_cache_dir();
  const bool offline = o.offline || env_true("HF_HUB_OFFLINE");
  const fs::path data = o.cache_dir / "data";
  std::error_code ec;
  fs::create_directories(data, ec);
  // One process at a time in the cache (the ranks of an MPI sweep may all reach here at once);
  // the lock goes with the descriptor, also when a process dies holding it.
  struct CacheLock {
    int fd;
    ~CacheLock() {
      if (fd >= 0) ::close(fd);
    }
  } lock{::open((o.cache_dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
  if (lock.fd >= 0) ::flock(lock.fd, LOCK_EX);
  Checksums sums(data);
  const std::vector<std::string> damaged = sums.damaged(source->files);
  if (damaged.empty() && eval_data_present(*source, data)) return data;
  if (offline)
    throw Error("task " + task + " needs its data, which is not in " + data_dir.string() + " and " +
                (damaged.empty() ? "not in the cache " + data.string() : "damaged in the cache (" + damaged.front() + ")") +
                ", and HF_HUB_OFFLINE is set (unset it to fetch the data from the Hugging Face Hub)");
  if (!damaged.empty())
    std::fprintf(stderr, "optipfair: %s in the cache does not match the checksum recorded when it was written; fetching %s's data again\n",
                 damaged.front().c_str(), task.c_str());
  // Start clean for this task: its files and the rows they were made from.
  for (const std::string& f : source->files) {
    fs::remove(data / f, ec);
    sums.forget(f);
  }
  if (!damaged.empty())
    for (const HubSource& h : source->hub)
      for (const char* ext : {".jsonl", ".jsonl.incomplete", ".features.json"})
        fs::remove(o.cache_dir / "rows" / (rows_stem(h.split) + ext), ec);
  Fetcher fetcher(task, o);
  for (const HubSource& h : source->hub) {
    json features;
    const std::vector<json> rows = fetcher.rows(h.split, features);
    for (const auto& [file, text] : hub_rows_to_files(h, rows, features)) {
      fs::create_directories((data / file).parent_path());
      write_text_file(data / file, text);
      sums.record(file, sha256_hex(text));
    }
  }
  for (const RawSource& r : source->raw) {
    const std::string bytes = fetcher.raw_file(r);
    fs::create_directories((data / r.file).parent_path());
    write_text_file(data / r.file, bytes);
    sums.record(r.file, r.sha256);
  }
  sums.save();
  if (!eval_data_present(*source, data))
    throw Error("task " + task + ": the data fetched from the Hub holds none of the files the task reads");
  return data;
}

}  // namespace optipfair
