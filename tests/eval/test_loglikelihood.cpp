// The log-likelihood runner: batching, prefix sharing, chunking and truncation give what one
// plain forward pass over the whole sequence gives; rolling windows as lm-eval cuts them; and
// stories260K's perplexity on its own domain against the reference figure in shared/README.md;
// requests shared among ranks give what one process gives.
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "eval/loglikelihood.h"
#include "io/load_model.h"
#include "model/forward.h"
#include "model/synthetic.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

// Log-likelihood of cont after ctx from one forward pass over ctx + cont[:-1], lm-eval style:
// the input is cut to its last max_length tokens.
double direct_logprob(const Model& m, std::vector<int32_t> ctx, const std::vector<int32_t>& cont, int64_t L,
                      bool* greedy) {
  std::vector<int32_t> all = ctx;
  all.insert(all.end(), cont.begin(), cont.end());
  if (static_cast<int64_t>(all.size()) > L + 1) all.erase(all.begin(), all.end() - (L + 1));
  all.pop_back();
  const std::vector<float> logits = forward_tokens(m, all);
  const int64_t V = m.config.vocab_size;
  double lp = 0;
  *greedy = true;
  for (size_t i = 0; i < cont.size(); ++i) {
    const float* row = logits.data() + (all.size() - cont.size() + i) * static_cast<size_t>(V);
    double mx = row[0];
    int64_t arg = 0;
    for (int64_t v = 1; v < V; ++v)
      if (row[v] > mx) {
        mx = row[v];
        arg = v;
      }
    double s = 0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(row[v] - mx);
    lp += row[cont[i]] - mx - std::log(s);
    *greedy = *greedy && arg == cont[i];
  }
  return lp;
}

TEST(Loglikelihood, BatchedSharedPrefixesMatchOnePassEach) {
  const Model m = make_synthetic_model("tiny", DType::F32, 3);
  std::vector<LoglikelihoodRequest> reqs = {
      {{1, 5, 9, 12}, {7}},           {{1, 5, 9, 12}, {8, 3, 4}}, {{2, 2}, {100, 101, 102, 103, 104}},
      {{1, 5, 9, 12}, {9, 9}},        {{42}, {43}},               {{2, 2}, {5}},
  };
  for (int64_t batch : {1, 2, 8})
    for (int64_t chunk : {1, 2, 512}) {
      LoglikelihoodOptions o;
      o.batch_size = batch;
      o.chunk_tokens = chunk;
      const auto res = run_loglikelihood(m, reqs, o);
      ASSERT_EQ(res.size(), reqs.size());
      for (size_t i = 0; i < reqs.size(); ++i) {
        bool greedy = false;
        const double lp = direct_logprob(m, reqs[i].context, reqs[i].continuation, 512, &greedy);
        EXPECT_NEAR(res[i].logprob, lp, 1e-4) << "request " << i << " batch " << batch << " chunk " << chunk;
        EXPECT_EQ(res[i].is_greedy, greedy);
        EXPECT_EQ(res[i].tokens, static_cast<int64_t>(reqs[i].continuation.size()));
      }
    }
}

TEST(Loglikelihood, LongInputsLoseTokensFromTheLeft) {
  const Model m = make_synthetic_model("tiny", DType::F32, 4);
  std::vector<int32_t> ctx;
  for (int i = 0; i < 20; ++i) ctx.push_back(10 + i);
  const std::vector<LoglikelihoodRequest> reqs = {{ctx, {50, 51, 52}}, {ctx, {60}}};
  LoglikelihoodOptions o;
  o.max_length = 8;
  const auto res = run_loglikelihood(m, reqs, o);
  for (size_t i = 0; i < reqs.size(); ++i) {
    bool greedy = false;
    EXPECT_NEAR(res[i].logprob, direct_logprob(m, ctx, reqs[i].continuation, 8, &greedy), 1e-4);
  }
  EXPECT_THROW(run_loglikelihood(m, {{{1}, std::vector<int32_t>(9, 3)}}, o), Error);
  EXPECT_THROW(run_loglikelihood(m, {{{1}, {}}}, o), Error);
}

TEST(Loglikelihood, RollingWindowsAsLmEvalCutsThem) {
  std::vector<int32_t> t;
  for (int i = 1; i <= 10; ++i) t.push_back(i);
  // get_rolling_token_windows(t, prefix 0, max_seq_len 4, context_len 1) + make_disjoint_window.
  const auto w = rolling_windows(t, 0, 4);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].context, (std::vector<int32_t>{0}));
  EXPECT_EQ(w[0].continuation, (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(w[1].context, (std::vector<int32_t>{4}));
  EXPECT_EQ(w[1].continuation, (std::vector<int32_t>{5, 6, 7, 8}));
  EXPECT_EQ(w[2].context, (std::vector<int32_t>{6, 7, 8}));
  EXPECT_EQ(w[2].continuation, (std::vector<int32_t>{9, 10}));
  EXPECT_EQ(rolling_windows({7, 8}, 0, 4).size(), 1u);
  EXPECT_TRUE(rolling_windows({}, 0, 4).empty());
}

std::string first_story() {
  std::ifstream in(test::shared_path("data/tinystories-sample/tinystories_sample.txt"), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  std::string story = all.substr(0, all.find("<|endoftext|>"));
  const size_t a = story.find_first_not_of(" \t\r\n"), b = story.find_last_not_of(" \t\r\n");
  return story.substr(a, b - a + 1);
}

TEST(Loglikelihood, Stories260kPerplexityOnTinyStoriesMatchesReference) {
  const auto dir = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(dir);
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("data/tinystories-sample/tinystories_sample.txt"));
  const Model m = load_model(dir.string());
  const auto tok = load_tokenizer(dir);
  const std::vector<std::string> texts = {first_story()};
  std::vector<int64_t> tokens;
  LoglikelihoodOptions o;
  const std::vector<double> ll = run_loglikelihood_rolling(m, *tok, texts, o, &tokens);
  // shared/README.md: 374 tokens with BOS, mean next-token loss 1.3160 nats, perplexity 3.728.
  ASSERT_EQ(tokens[0], 373);
  const double loss = -ll[0] / static_cast<double>(tokens[0]);
  EXPECT_NEAR(loss, 1.3160, 5e-4);
  EXPECT_NEAR(std::exp(loss), 3.728, 2e-3);
  // With 64-token windows the story is six windows, each scored on the tokens its own window
  // holds: the same as one plain forward pass per window.
  o.max_length = 64;
  const double windowed = run_loglikelihood_rolling(m, *tok, texts, o)[0];
  const auto windows = rolling_windows(encode_plain(*tok, texts[0]), prefix_token_id(*tok), 64);
  ASSERT_EQ(windows.size(), 6u);  // ceil(373 / 64)
  double direct = 0;
  for (const auto& w : windows) {
    bool greedy = false;
    direct += direct_logprob(m, w.context, w.continuation, 64, &greedy);
  }
  EXPECT_NEAR(windowed, direct, 1e-3);
}


// Requests shared among ranks (threads standing in for MPI processes, with a gather through
// shared memory): every rank gets every result, equal to one process scoring them all; each rank
// scored only its share; the shares follow the requests alone.
TEST(Loglikelihood, SharedAmongRanksEqualsOneProcess) {
  const Model m = make_synthetic_model("tiny", DType::F32, 3);
  std::vector<LoglikelihoodRequest> reqs;
  for (int32_t i = 0; i < 23; ++i)
    reqs.push_back({{1, static_cast<int32_t>(5 + i % 7), 9}, {static_cast<int32_t>(10 + i), static_cast<int32_t>(20 + i % 3)}});
  LoglikelihoodOptions one;
  one.batch_size = 4;
  const std::vector<LoglikelihoodResult> expected = run_loglikelihood(m, reqs, one);
  for (int ranks : {1, 2, 3, 5}) {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> posted(static_cast<size_t>(ranks));
    int arrived = 0;
    std::vector<std::vector<LoglikelihoodResult>> got(static_cast<size_t>(ranks));
    std::vector<LoglikelihoodLog> logs(static_cast<size_t>(ranks));
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks; ++r)
      threads.emplace_back([&, r] {
        RequestSharing sharing;
        sharing.rank = r;
        sharing.size = ranks;
        sharing.all_gather = [&](const std::string& mine) {
          std::unique_lock<std::mutex> lock(mutex);
          posted[static_cast<size_t>(r)] = mine;
          if (++arrived == ranks) cv.notify_all();
          cv.wait(lock, [&] { return arrived == ranks; });
          return posted;
        };
        LoglikelihoodOptions o = one;
        o.sharing = &sharing;
        o.log = &logs[static_cast<size_t>(r)];
        got[static_cast<size_t>(r)] = run_loglikelihood(m, reqs, o);
      });
    for (auto& t : threads) t.join();
    size_t scored = 0;
    for (int r = 0; r < ranks; ++r) {
      const auto& g = got[static_cast<size_t>(r)];
      ASSERT_EQ(g.size(), expected.size());
      for (size_t i = 0; i < g.size(); ++i) {
        EXPECT_EQ(g[i].logprob, expected[i].logprob) << ranks << " ranks, rank " << r << ", request " << i;
        EXPECT_EQ(g[i].is_greedy, expected[i].is_greedy);
        EXPECT_EQ(g[i].tokens, expected[i].tokens);
      }
      EXPECT_EQ(logs[static_cast<size_t>(r)].requests.size(), reqs.size()) << "the log holds every request";
      scored += posted[static_cast<size_t>(r)].size();
    }
    if (ranks > 1) {  // (one rank scores alone, without gathering)
      EXPECT_EQ(scored, reqs.size() * (sizeof(double) + 1 + sizeof(int64_t))) << "each request scored by one rank only";
      for (int r = 0; r < ranks; ++r) EXPECT_FALSE(posted[static_cast<size_t>(r)].empty()) << "rank " << r << " had no share";
    }
  }
}

}  // namespace
}  // namespace optipfair
