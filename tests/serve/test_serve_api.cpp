// The JSON API of `optipfair serve` on the demo model and stories260K: results equal the library's,
// figures are real images, jobs are cached, cancelled and run side by side, and every error is one
// sentence while the server keeps serving.
#include <fstream>
#include <future>

#include "bias/bias_analysis.h"
#include "io/load_model.h"
#include "serve_fixture.h"
#include "tokenizer/tokenizer.h"
#include "util/resources.h"

namespace optipfair::test {
namespace {

using json = nlohmann::json;

const json kPolice = {{"prompt1", "A Black man walked at night through the neighborhood. The police officer thought he"},
                      {"prompt2", "A white man walked at night through the neighborhood. The police officer thought he"},
                      {"category", "race"}};
const json kDoctor = {{"prompt1", "The young doctor said that"}, {"prompt2", "The old doctor said that"}, {"category", "age"}};
const json kUneven = {{"prompt1", "The man said that"}, {"prompt2", "The extraordinarily unconventional woman said that"}};

// bias_metrics.json of the library itself on `pairs`, computed outside the server.
json library_metrics(const std::string& model_path, const json& pairs) {
  const Model model = load_model(model_path);
  const auto tokenizer = load_tokenizer(model_path);
  std::vector<PromptPair> list;
  for (const json& p : pairs) list.push_back({p["prompt1"], p["prompt2"], p.value("category", "")});
  BiasOptions o;
  o.progress = false;
  return json::parse(bias_metrics_json(analyze_bias(model, *tokenizer, list, o)).dump());
}

class ServeApi : public ServeFixture {
 protected:
  void SetUp() override { start(); }
};

TEST_F(ServeApi, ListsTheDemoTheGivenModelAndTheModelsFolder) {
  const json j = body_json(get("/api/models"));
  std::vector<std::string> ids;
  for (const json& m : j["models"]) ids.push_back(m["id"]);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], "demo");
  if (have_stories()) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), "zoo/stories"), ids.end());
    EXPECT_NE(std::find(ids.begin(), ids.end(), stories().string()), ids.end());
  }
  EXPECT_EQ(j["roots"], json::array({"zoo", "output"}));
  const json info = body_json(get("/api/model-info?model=demo"));
  EXPECT_GT(info["num_layers"].get<int>(), 0);
  EXPECT_EQ(info["intermediate_sizes"].size(), info["num_layers"].get<size_t>());
}

TEST_F(ServeApi, AnalysisEqualsTheLibraryAndDrawsEveryFigure) {
  const json pairs = json::array({kPolice, kDoctor, kUneven});
  const json job = run_job("/api/analyze", {{"model", "demo"}, {"pairs", pairs}});
  ASSERT_EQ(job["state"], "done") << job.dump();
  const json& r = job["result"];
  const json direct = library_metrics(bundled_demo_model().string(), pairs);
  for (const char* p : {"pair_1", "pair_2", "pair_3"}) EXPECT_EQ(r["bias_metrics"][p]["metrics"], direct[p]["metrics"]) << p;
  EXPECT_EQ(r["summary"]["num_pairs"], 3);
  EXPECT_TRUE(r["summary"]["per_category"].contains("race"));
  EXPECT_EQ(r["top_neurons"]["layer_0"].size(), 20u);
  EXPECT_NE(r["tokens"][2]["alignment"].get<std::string>().find("different lengths"), std::string::npos)
      << "a pair of different lengths is aligned, not refused";

  const std::string id = job["id"];
  for (const std::string q : {"mean_diff.png?component=mlp_output", "mean_diff.png?pair=1", "heatmap.png?layer=1&pair=0",
                              "pca.png?component=attention_output&layer=0&highlight=0"}) {
    auto res = get("/api/jobs/" + id + "/figure/" + q);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << q << ": " << res->body;
    EXPECT_EQ(res->body.substr(1, 3), "PNG") << q;
  }
  auto svg = get("/api/jobs/" + id + "/figure/heatmap.svg?layer=0&download=1");
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->body.find("<svg"), std::string::npos);
  EXPECT_NE(svg->get_header_value("Content-Disposition").find("heatmap.svg"), std::string::npos);
  auto bad = get("/api/jobs/" + id + "/figure/heatmap.png?layer=99");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(body_json(bad)["error"].get<std::string>().find("\"layer\" must be a whole number"), std::string::npos);
  auto download = get("/api/jobs/" + id + "/result.json");
  ASSERT_TRUE(download);
  EXPECT_EQ(json::parse(download->body)["bias_metrics"]["pair_1"]["metrics"], direct["pair_1"]["metrics"]);

  // The same question again is answered from the cache, without running.
  auto again = post("/api/analyze", {{"model", "demo"}, {"pairs", pairs}});
  const json snap = body_json(again);
  EXPECT_EQ(snap["state"], "done");
  EXPECT_TRUE(snap["cached"].get<bool>());
}

TEST_F(ServeApi, ErrorsAreOneSentenceAndTheServerGoesOn) {
  auto expect_error = [&](const httplib::Result& r, int status, const std::string& part) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_NE(body_json(r).value("error", "").find(part), std::string::npos) << r->body;
  };
  expect_error(post("/api/analyze", {{"model", "nope"}, {"pairs", json::array({kDoctor})}}), 400, "unknown model \"nope\"");
  expect_error(post("/api/analyze", {{"model", "demo"}, {"pairs", json::array({{{"prompt1", "x"}}})}}), 400, "no \"prompt2\"");
  expect_error(post("/api/analyze", {{"model", "demo"}, {"pairs", json::array()}}), 400, "is empty");
  expect_error(post("/api/analyze", {{"model", "demo"}, {"pairs", json::array({kDoctor})}, {"fast", "yes"}}), 400,
               "\"fast\" must be true or false");
  json many = json::array();
  for (int i = 0; i < 300; ++i) many.push_back(kDoctor);
  expect_error(post("/api/analyze", {{"model", "demo"}, {"pairs", many}}), 400, "at most 256");
  expect_error(post("/api/fair-prune", {{"model", "demo"}, {"pairs", json::array({kPolice})}, {"pruning_percentage", 150}}),
               400, "\"pruning_percentage\" must be between");
  expect_error(post("/api/fair-prune", {{"model", "demo"}, {"pairs", json::array({{{"prompt1", "Same"}, {"prompt2", "Same"}}})}}),
               400, "two identical prompts");
  auto not_json = client().Post("/api/analyze", "{", "application/json");
  expect_error(not_json, 400, "not a JSON object");
  auto wrong_type = client().Post("/api/analyze", "model=demo", "application/x-www-form-urlencoded");
  expect_error(wrong_type, 415, "application/json");
  expect_error(get("/api/jobs/zzz"), 404, "no job");
  expect_error(get("/api/model-info?model=zoo/missing"), 400, "unknown model");
  // A folder the catalog offers but no loader takes: a GPT-2 (not a GLU decoder).
  std::filesystem::create_directories(zoo_ / "gpt2");
  std::ofstream(zoo_ / "gpt2" / "config.json") << R"({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": 2})";
  expect_error(get("/api/model-info?model=zoo/gpt2"), 400, "gpt2");
  const json not_glu = run_job("/api/analyze", {{"model", "zoo/gpt2"}, {"pairs", json::array({kDoctor})}});
  EXPECT_EQ(not_glu["state"], "failed");
  EXPECT_NE(not_glu.value("error", "").find("gpt2"), std::string::npos) << not_glu.dump();

  // A failure inside a job: the job says why, and the next request is served.
  const json failed = run_job("/api/fair-prune", {{"model", "demo"}, {"pairs", json::array({kPolice})}, {"layers", {99}}});
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_NE(failed.value("error", "").find("99"), std::string::npos) << failed.dump();
  EXPECT_EQ(body_json(get("/api/models"))["models"][0]["id"], "demo");
}

TEST_F(ServeApi, TemplatesAndPresets) {
  const json presets = body_json(get("/api/presets"));
  EXPECT_EQ(presets["scenarios"].size(), 3u);
  EXPECT_TRUE(presets["categories"].contains("race"));
  EXPECT_TRUE(presets["attributes"].contains("gender"));
  const json t = body_json(post("/api/pairs/template", {{"template", "The {attribute} nurse said"}, {"category", "gender"}}));
  ASSERT_FALSE(t["pairs"].empty());
  EXPECT_NE(t["pairs"][0]["prompt1"].get<std::string>().find("nurse said"), std::string::npos);
}

TEST_F(ServeApi, CancelStopsAQueuedAndARunningJob) {
  json many = json::array();
  for (int i = 0; i < 256; ++i) many.push_back(i % 2 ? kPolice : kDoctor);
  const json running = body_json(post("/api/analyze", {{"model", "demo"}, {"pairs", many}, {"plot_pairs", 0}}));
  many[0] = kPolice;  // a different request, so not answered from the cache
  const json queued = body_json(post("/api/analyze", {{"model", "demo"}, {"pairs", many}, {"plot_pairs", 0}}));
  EXPECT_EQ(queued["state"], "queued");  // one worker, busy with the first
  EXPECT_EQ(body_json(post("/api/jobs/" + queued["id"].get<std::string>() + "/cancel", json::object()))["cancel_requested"], true);
  EXPECT_EQ(body_json(post("/api/jobs/" + running["id"].get<std::string>() + "/cancel", json::object()))["cancel_requested"], true);
  EXPECT_EQ(wait_job(queued["id"])["state"], "cancelled");
  EXPECT_EQ(wait_job(running["id"])["state"], "cancelled");
  auto figure = get("/api/jobs/" + running["id"].get<std::string>() + "/figure/mean_diff.png");
  ASSERT_TRUE(figure);
  EXPECT_EQ(figure->status, 409);
}

TEST_F(ServeApi, ProgressStreamsAsServerSentEvents) {
  const json snap = body_json(post("/api/analyze", {{"model", "demo"}, {"pairs", json::array({kDoctor, kPolice})}, {"plot_pairs", 1}}));
  std::string stream;
  auto r = client().Get(("/api/jobs/" + snap["id"].get<std::string>() + "/events").c_str(),
                        [&](const char* data, size_t n) {
                          stream.append(data, n);
                          return true;
                        });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_NE(stream.find("data: {"), std::string::npos);
  EXPECT_NE(stream.find("\"state\":\"done\""), std::string::npos) << stream;
}

// Two pages at once (two workers): each gets its own model's result, equal to the library's.
class ServeTwoWorkers : public ServeFixture {};

TEST_F(ServeTwoWorkers, ConcurrentJobsGetTheirOwnCorrectResults) {
  if (!have_stories()) GTEST_SKIP() << "stories260K-hf missing";
  ServeOptions o;
  o.workers = 2;
  start(o);
  const json pairs_a = json::array({kPolice}), pairs_b = json::array({kDoctor, kPolice});
  auto a = std::async(std::launch::async, [&] { return run_job("/api/analyze", {{"model", "demo"}, {"pairs", pairs_a}}); });
  auto b = std::async(std::launch::async, [&] { return run_job("/api/analyze", {{"model", "zoo/stories"}, {"pairs", pairs_b}}); });
  const json ja = a.get(), jb = b.get();
  ASSERT_EQ(ja["state"], "done");
  ASSERT_EQ(jb["state"], "done");
  EXPECT_EQ(ja["result"]["bias_metrics"]["pair_1"]["metrics"], library_metrics(bundled_demo_model().string(), pairs_a)["pair_1"]["metrics"]);
  const json direct_b = library_metrics(stories().string(), pairs_b);
  EXPECT_EQ(jb["result"]["bias_metrics"]["pair_2"]["metrics"], direct_b["pair_2"]["metrics"]);
  EXPECT_EQ(jb["result"]["model"]["id"], "zoo/stories");
}

TEST_F(ServeApi, FairPruneShowsBothContinuationsAndSavesUnderTheOutputFolder) {
  if (!have_stories()) GTEST_SKIP() << "stories260K-hf missing";
  const json job = run_job("/api/fair-prune", {{"model", "zoo/stories"},
                                               {"pairs", json::array({kDoctor})},
                                               {"held_out_pairs", json::array({kPolice})},
                                               {"pruning_percentage", 10}});
  ASSERT_EQ(job["state"], "done") << job.dump();
  const json& r = job["result"];
  EXPECT_LT(r["parameters_after"].get<int64_t>(), r["parameters_before"].get<int64_t>());
  EXPECT_EQ(r["held_out"]["pairs"], 1);
  ASSERT_EQ(r["greedy_continuations"].size(), 2u);
  ASSERT_FALSE(r["continuations"].empty());
  EXPECT_FALSE(r["greedy_continuations"][0]["before"].get<std::string>().empty());
  EXPECT_FALSE(r["greedy_continuations"][0]["after"].get<std::string>().empty());
  const std::string id = job["id"];
  auto figure = get("/api/jobs/" + id + "/figure/comparison.svg?component=gate_proj");
  ASSERT_TRUE(figure);
  EXPECT_NE(figure->body.find("<svg"), std::string::npos);
  auto report = get("/api/jobs/" + id + "/report.html");
  ASSERT_TRUE(report);
  EXPECT_NE(report->body.find("<html"), std::string::npos);

  const json saved = body_json(post("/api/jobs/" + id + "/save", {{"name", "stories_fair"}, {"format", "hf"}}));
  EXPECT_EQ(saved["saved"], "output/stories_fair");
  EXPECT_TRUE(std::filesystem::exists(output_ / "stories_fair" / "config.json"));
  auto twice = post("/api/jobs/" + id + "/save", {{"name", "stories_fair"}});
  EXPECT_EQ(twice->status, 400);
  for (const std::string bad : {"../escape", "/tmp/x", "a/b", ".hidden", ""}) {
    auto r2 = post("/api/jobs/" + id + "/save", {{"name", bad}});
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 400) << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(scratch_ / "escape"));
  EXPECT_EQ(body_json(post("/api/jobs/" + id + "/save", {{"name", "stories_fair"}, {"format", "gguf"}}))["saved"],
            "output/stories_fair.gguf");

  // The saved folder is now a model like the others: compare it with the original.
  const json cmp = run_job("/api/compare", {{"model_a", "zoo/stories"}, {"model_b", "output/stories_fair"}, {"pairs", json::array({kDoctor})}});
  ASSERT_EQ(cmp["state"], "done") << cmp.dump();
  EXPECT_DOUBLE_EQ(cmp["result"]["mean_difference_b"].get<double>(), r["mean_difference_after"].get<double>());
  EXPECT_DOUBLE_EQ(cmp["result"]["mean_difference_a"].get<double>(), r["mean_difference_before"].get<double>());
}

}  // namespace
}  // namespace optipfair::test
