// Evaluation data fetched from a Hub imitation served on 127.0.0.1 (nothing reaches the network):
// rows in the dataset viewer's JSON, built from the first items of the shared files and shaped as
// the Hub holds them (class labels as integers, ARC's choices as lists, ...). A run with no local
// data fetches, caches and scores exactly what the same items score from the original files; it
// then runs offline from the cache; a damaged cached file is noticed and fetched again; an
// interrupted download resumes where it stopped; hostile rows are refused with one sentence.
#include <atomic>
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

#include "eval/eval_data_fetch.h"
#include "eval/eval_tasks.h"
#include "eval/eval_text.h"
#include "eval_test_model.h"
#include "tokenizer/tokenizer.h"
#include "test_support.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr size_t kRows = 120;  // items per data set the imitation serves

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<json> first_jsonl(const fs::path& p, size_t n) {
  std::vector<json> out;
  std::istringstream in(read_file(p));
  std::string line;
  while (out.size() < n && std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

json class_label(const std::vector<std::string>& names) { return {{"_type", "ClassLabel"}, {"names", names}}; }

// The Hub's form of the shared data: what the real data sets hold, item for item.
struct Table {
  json features = json::array();
  std::vector<json> rows;
};

class FakeHub {
 public:
  explicit FakeHub(const fs::path& data) {
    const json text = {{"_type", "Value"}, {"dtype", "string"}};
    Table& lambada = tables_["EleutherAI/lambada_openai|default|test"];
    lambada.features = json::array({{{"name", "text"}, {"type", text}}});
    lambada.rows = first_jsonl(data / "lambada_openai/lambada_test.jsonl", kRows);

    Table& boolq = tables_["aps/super_glue|boolq|validation"];
    boolq.features = json::array({{{"name", "label"}, {"type", class_label({"False", "True"})}}});
    for (json r : first_jsonl(data / "boolq/val.jsonl", kRows)) {
      r["label"] = r["label"] == "true" || r["label"] == true ? 1 : 0;
      boolq.rows.push_back(r);
    }

    Table& crows = tables_["jannalu/crows_pairs_multilingual|english|test"];
    const std::vector<std::string> stereo = {"stereo", "antistereo"};
    std::vector<std::string> types;
    int64_t bad = 0;
    const auto csv = parse_csv(read_file(data / "crows-pairs/crows_pairs_anonymized.csv"), &bad);
    for (size_t i = 1; i < csv.size() && crows.rows.size() < kRows; ++i) {
      const auto& rec = csv[i];
      if (rec.size() != csv[0].size()) continue;
      auto t = std::find(types.begin(), types.end(), rec[4]);
      if (t == types.end()) t = types.insert(types.end(), rec[4]);
      crows.rows.push_back({{"id", i - 1}, {"sent_more", rec[1]}, {"sent_less", rec[2]},
                            {"stereo_antistereo", rec[3] == "stereo" ? 0 : 1}, {"bias_type", t - types.begin()}});
    }
    crows.features = json::array({{{"name", "stereo_antistereo"}, {"type", class_label(stereo)}},
                                  {{"name", "bias_type"}, {"type", class_label(types)}}});

    Table& bbq = tables_["oskarvanderwal/bbq|All|test"];
    for (const auto& e : fs::directory_iterator(data / "bbq"))
      if (e.path().extension() == ".jsonl")
        for (const json& r : first_jsonl(e.path(), 40)) bbq.rows.push_back(r);

    for (const auto& e : fs::directory_iterator(data / "winobias"))
      raw_["/uclanlp/corefBias/master/WinoBias/wino/data/" + e.path().filename().string()] = read_file(e.path());

    server_.Get("/rows", [this](const httplib::Request& req, httplib::Response& res) { rows(req, res); });
    server_.Get(R"(/uclanlp/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      log_.push_back("raw " + req.path);
      auto it = raw_.find(req.path);
      if (it == raw_.end()) res.status = 404;
      else res.set_content(it->second, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  size_t requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_.size();
  }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_;
  }
  std::string authorization() {
    std::lock_guard<std::mutex> lock(mutex_);
    return authorization_;
  }
  Table& table(const std::string& key) { return tables_[key]; }
  void set_raw(const std::string& path, std::string bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    raw_[path] = std::move(bytes);
  }
  std::atomic<int64_t> fail_from{-1};  // pages at or past this offset answer 500
  std::atomic<int> status{200};        // every answer's status when not 200

 private:
  void rows(const httplib::Request& req, httplib::Response& res) {
    const std::string key = req.get_param_value("dataset") + "|" + req.get_param_value("config") + "|" +
                            req.get_param_value("split");
    const int64_t offset = std::stoll(req.get_param_value("offset")), length = std::stoll(req.get_param_value("length"));
    std::lock_guard<std::mutex> lock(mutex_);
    log_.push_back("rows " + key + " " + std::to_string(offset));
    authorization_ = req.get_header_value("Authorization");
    if (status != 200 || (fail_from >= 0 && offset >= fail_from)) {
      res.status = status != 200 ? status.load() : 500;
      return;
    }
    auto it = tables_.find(key);
    if (it == tables_.end()) {
      res.status = 404;
      return;
    }
    const Table& t = it->second;
    json page = {{"features", t.features}, {"rows", json::array()}, {"num_rows_total", t.rows.size()}, {"partial", false}};
    for (int64_t i = offset; i < offset + length && i < static_cast<int64_t>(t.rows.size()); ++i)
      page["rows"].push_back({{"row_idx", i}, {"row", t.rows[static_cast<size_t>(i)]}, {"truncated_cells", json::array()}});
    res.set_content(page.dump(), "application/json");
  }

  std::map<std::string, Table> tables_;
  std::map<std::string, std::string> raw_;
  std::mutex mutex_;
  std::vector<std::string> log_;
  std::string authorization_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// The environment the fetcher reads, pointed at the imitation and a scratch cache; restored after.
class EvalDataFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test::shared_path("data");
    OPTIPFAIR_REQUIRE_SHARED(data_ / "bbq");
    OPTIPFAIR_REQUIRE_SHARED(data_ / "winobias");
    const fs::path demo = OPTIPFAIR_DEMO_MODEL;
    if (!fs::exists(demo / "tokenizer.json")) GTEST_SKIP() << "demo model missing";
    tok_ = load_tokenizer(demo);
    model_ = test::synthetic_model_for_vocab(tok_->vocab_size() + 64, 5);
    hub_ = std::make_unique<FakeHub>(data_);
    for (const char* n : {"OPTIPFAIR_DATASETS_SERVER", "OPTIPFAIR_RAW_FILES", "OPTIPFAIR_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE"}) {
      const char* v = std::getenv(n);
      saved_[n] = v ? std::optional<std::string>(v) : std::nullopt;
    }
    ::setenv("OPTIPFAIR_DATASETS_SERVER", hub_->url().c_str(), 1);
    ::setenv("OPTIPFAIR_RAW_FILES", hub_->url().c_str(), 1);
    ::setenv("OPTIPFAIR_CACHE", (scratch_ / "cache").c_str(), 1);
    ::setenv("HF_TOKEN", "hf_test_token", 1);
    ::unsetenv("HF_HUB_OFFLINE");
  }
  void TearDown() override {
    for (const auto& [n, v] : saved_) {
      if (v) ::setenv(n.c_str(), v->c_str(), 1);
      else ::unsetenv(n.c_str());
    }
  }

  // Every metric of every result, by name, and the items each scored.
  std::map<std::string, double> run(const fs::path& data_dir, bool fetch) {
    EvalOptions o;
    o.tasks = {"boolq", "lambada_openai", "crows_pairs_english", "bbq", "winobias"};
    o.limit = 8;
    o.data_dir = data_dir;
    o.fetch_missing_data = fetch;
    o.progress = false;
    std::map<std::string, double> out;
    for (const TaskResult& r : run_eval_tasks(model_, *tok_, o)) {
      out[r.task + ".samples"] = static_cast<double>(r.samples);
      for (const MetricValue& m : r.metrics) out[r.task + "." + m.name] = m.value;
    }
    return out;
  }

  fs::path cached(const std::string& relative) const { return scratch_ / "cache" / "eval-data" / "data" / relative; }

  test::SingleThread one_thread_;
  test::ScratchDir scratch_;
  fs::path data_;
  std::unique_ptr<Tokenizer> tok_;
  Model model_;
  std::unique_ptr<FakeHub> hub_;
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(EvalDataFetch, FetchesCachesAndScoresLikeTheOriginalFiles) {
  const std::map<std::string, double> local = run(data_, false);
  const std::map<std::string, double> fetched = run("/nonexistent", true);
  EXPECT_EQ(fetched, local);
  EXPECT_EQ(hub_->authorization(), "Bearer hf_test_token");
  EXPECT_TRUE(fs::exists(cached("bbq/Age.jsonl")));
  EXPECT_TRUE(fs::exists(cached("winobias/male_occupations.txt")));

  // Offline, from the cache: the same numbers and not one request.
  const size_t requests = hub_->requests();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(run("/nonexistent", true), local);
  EXPECT_EQ(hub_->requests(), requests);

  // A damaged cached file: offline it is an error naming it; online it is fetched again.
  {
    std::fstream f(cached("crows-pairs/crows_pairs_anonymized.csv"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('#');
  }
  const std::string e = test::error_of([&] { run("/nonexistent", true); });
  EXPECT_NE(e.find("damaged in the cache (crows-pairs/crows_pairs_anonymized.csv)"), std::string::npos) << e;
  EXPECT_NE(e.find("HF_HUB_OFFLINE"), std::string::npos) << e;
  ::unsetenv("HF_HUB_OFFLINE");
  EXPECT_EQ(run("/nonexistent", true), local);
  EXPECT_GT(hub_->requests(), requests);
}

TEST_F(EvalDataFetch, AnInterruptedDownloadResumesWhereItStopped) {
  Table& t = hub_->table("EleutherAI/lambada_openai|default|test");
  ASSERT_EQ(t.rows.size(), kRows);
  EvalDataFetchOptions o;
  o.retry_delay_ms = 1;
  o.progress = false;
  hub_->fail_from = 100;  // the second page fails, every try
  const std::string e = test::error_of([&] { eval_data_for_task("lambada_openai", "/nonexistent", o); });
  EXPECT_NE(e.find("HTTP 500"), std::string::npos) << e;
  const size_t before = hub_->log().size();
  hub_->fail_from = -1;
  const fs::path dir = eval_data_for_task("lambada_openai", "/nonexistent", o);
  const std::vector<std::string> log = hub_->log();
  ASSERT_EQ(log.size(), before + 1);
  EXPECT_EQ(log.back(), "rows EleutherAI/lambada_openai|default|test 100") << "it started over instead of resuming";
  const std::vector<json> got = first_jsonl(dir / "lambada_openai/lambada_test.jsonl", 1000);
  ASSERT_EQ(got.size(), kRows);
  for (size_t i = 0; i < kRows; ++i) EXPECT_EQ(got[i], t.rows[i]) << i;
}

TEST_F(EvalDataFetch, HostileOrRefusedAnswersAreOneSentence) {
  EvalDataFetchOptions o;
  o.retry_delay_ms = 1;
  o.progress = false;
  Table& bbq = hub_->table("oskarvanderwal/bbq|All|test");
  bbq.rows[3]["category"] = "../../escape";
  std::string e = test::error_of([&] { eval_data_for_task("bbq", "/nonexistent", o); });
  EXPECT_NE(e.find("row 3 cannot be used: its category \"../../escape\" is not a BBQ category"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(scratch_ / "cache" / "eval-data" / "escape.jsonl"));
  EXPECT_FALSE(fs::exists(scratch_ / "escape.jsonl"));

  hub_->status = 401;
  e = test::error_of([&] { eval_data_for_task("boolq", "/nonexistent", o); });
  EXPECT_NE(e.find("set HF_TOKEN to a token that has access"), std::string::npos) << e;
  hub_->status = 200;

  Table& boolq = hub_->table("aps/super_glue|boolq|validation");
  boolq.rows[0]["label"] = 7;  // no such class
  e = test::error_of([&] { eval_data_for_task("boolq", "/nonexistent", o); });
  EXPECT_EQ(e, "(no error)") << "boolq keeps its rows as they are; the task itself skips a bad label";
  Table& crows = hub_->table("jannalu/crows_pairs_multilingual|english|test");
  crows.rows[2]["bias_type"] = 99;
  e = test::error_of([&] { eval_data_for_task("crows_pairs_english", "/nonexistent", o); });
  EXPECT_NE(e.find("row 2 cannot be used: field \"bias_type\" holds class 99"), std::string::npos) << e;

  // A file that is not the pinned one (changed upstream, or a proxy's error page) is refused.
  hub_->set_raw("/uclanlp/corefBias/master/WinoBias/wino/data/male_occupations.txt", "<html>sign in</html>");
  e = test::error_of([&] { eval_data_for_task("winobias", "/nonexistent", o); });
  EXPECT_NE(e.find("male_occupations.txt is not the file the task was written for"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(cached("winobias/male_occupations.txt")));
}

}  // namespace
}  // namespace optipfair
