// Every evaluation task on two real models, pinned to the figures the task code produced when
// this test was written (commit 2a2998f, before the tasks were split by family): metric values,
// standard errors, sample / available / skip counts and the first skipped line, and what the run
// scored (the number of requests, their context and continuation tokens and the sum of their
// log-likelihoods, so that a change to a prompt shows even where an accuracy over a few items
// does not move). A change to how a task reads its data, applies --limit, builds its prompts or
// few-shot text, or aggregates its metrics shows up here as a changed figure. Re-pinned once for an
// arithmetic change: the attention kernel's online softmax (issue 14) sums in another order; every
// count, accuracy and greedy flag stayed, log-likelihoods moved in the 7th digit on stories260K and
// by up to 0.4 % in the demo model's CrowS-Pairs likelihood_diff (bf16 activations amplify it).
// Re-pinned a second time for the demo model (bf16 weights) only: a lone row of x (a forward call
// of one token) now meets bf16 weights with bf16-rounded x in fast mode, as every batch of rows
// already did, so a request's score no longer depends on whether it shared its call; counts,
// accuracies and greedy flags stayed, log-likelihoods moved by up to 0.6 % in likelihood_diff.
//
// The figures are float32 forward passes, so they depend on the CPU's instruction set (FMA
// contraction, AVX-512 BF16 dot products) and on how the compiler arranged the arithmetic: they
// were recorded with the Release build (-O3) on an AVX-512 BF16 CPU, and the test is skipped on
// any other CPU and in sanitizer builds (RelWithDebInfo + ASan/UBSan gives the same counts and
// accuracies but log-likelihoods that differ in the sixth digit, and runs these tasks about 30
// times slower; the other eval tests run every task's code there). Doubles are compared to 1e-12
// relative (the arithmetic is deterministic for a given build and instruction set, whatever the
// thread count; the tolerance only absorbs printing). They were recorded with GCC: built with
// clang, the doubles are compared to 1e-4 of max(1, |value|) instead (same_double says why).
//
// On a mismatch the test prints the whole table it got, in the form below, so an intended change
// can be re-pinned by pasting it (say why in the commit).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <omp.h>

#include "eval/eval_tasks.h"
#include "eval/loglikelihood.h"
#include "io/load_model.h"
#include "kernels/matmul.h"
#include "test_support.h"
#include "util/build_paths.h"

#if defined(__SANITIZE_ADDRESS__)
#define OPTIPFAIR_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPTIPFAIR_SANITIZER_BUILD 1
#endif
#endif

namespace optipfair {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct PinnedMetric {
  const char* name;
  double value;
  double stderr_value;
};

struct PinnedTask {
  const char* task;
  int64_t num_fewshot, samples, available, skipped;
  const char* skipped_detail;
  std::vector<PinnedMetric> metrics;
};

// The requests a run scored, from its request log.
struct PinnedRequests {
  int64_t count, context_tokens, continuation_tokens, greedy;
  double logprob_sum;
};

// One run of run_eval_tasks: a task with its --limit and --num-fewshot.
struct PinnedRun {
  const char* task;
  int64_t limit, num_fewshot;
  PinnedRequests requests;
  std::vector<PinnedTask> expected;
};

// ---------------------------------------------------------------------------------------------
// The figures, as this test printed them at commit 2a2998f (Release build, GCC 12, AMD EPYC with
// AVX-512 BF16).
// PINNED-TABLES-BEGIN
std::vector<PinnedRun> stories260k_runs() {
  return {
      {"wikitext", 1, 0,
       {7, 177, 3414, 0, -15222.051308400074},
       {
           {"wikitext", 0, 1, 62, 0, "",
            {
                {"word_perplexity", 1117778.6169679714, kNaN},
                {"byte_perplexity", 14.674133874012535, kNaN},
                {"bits_per_byte", 3.8752034471124306, kNaN},
            }},
       }},
      {"lambada_openai", 8, 0,
       {8, 1467, 35, 0, -162.46845372964862},
       {
           {"lambada_openai", 0, 8, 5153, 0, "",
            {
                {"perplexity", 660532387.93561184, 300976959997.68475},
                {"acc", 0, 0},
            }},
       }},
      {"boolq", 8, 0,
       {16, 7774, 32, 0, -145.40802872087556},
       {
           {"boolq", 0, 8, 3270, 0, "",
            {
                {"acc", 0.25, 0.16366341767699427},
            }},
       }},
      {"arc_easy", 8, 0,
       {32, 2460, 455, 0, -1776.7561744871264},
       {
           {"arc_easy", 0, 8, 2376, 0, "",
            {
                {"acc", 0.25, 0.16366341767699427},
                {"acc_norm", 0.125, 0.125},
            }},
       }},
      {"arc_challenge", 8, 0,
       {32, 4760, 757, 0, -2690.948223108936},
       {
           {"arc_challenge", 0, 8, 1172, 0, "",
            {
                {"acc", 0.125, 0.125},
                {"acc_norm", 0.125, 0.125},
            }},
       }},
      {"crows_pairs_english", 40, 0,
       {80, 80, 3025, 0, -9994.333991097672},
       {
           {"crows_pairs_english", 0, 40, 1508, 0, "",
            {
                {"likelihood_diff", 9.3329853734863519, 1.5146102163277688},
                {"pct_stereotype", 0.27500000000000002, 0.071499506901652715},
            }},
           {"crows_pairs_english_age", 0, 1, 0, 0, "",
            {
                {"likelihood_diff", 1.9283552805916315, kNaN},
                {"pct_stereotype", 0, kNaN},
            }},
           {"crows_pairs_english_disability", 0, 3, 0, 0, "",
            {
                {"likelihood_diff", 4.8122877196734821, 2.2005056334364155},
                {"pct_stereotype", 0.33333333333333331, 0.33333333333333337},
            }},
           {"crows_pairs_english_gender", 0, 9, 0, 0, "",
            {
                {"likelihood_diff", 9.3767663892884983, 3.6076620708566911},
                {"pct_stereotype", 0.22222222222222221, 0.14698618394803281},
            }},
           {"crows_pairs_english_nationality", 0, 4, 0, 0, "",
            {
                {"likelihood_diff", 13.001755808342118, 5.7032139544251503},
                {"pct_stereotype", 0.25, 0.25},
            }},
           {"crows_pairs_english_physical_appearance", 0, 3, 0, 0, "",
            {
                {"likelihood_diff", 14.628122639598194, 4.3749639545193828},
                {"pct_stereotype", 0.33333333333333331, 0.33333333333333337},
            }},
           {"crows_pairs_english_race_color", 0, 12, 0, 0, "",
            {
                {"likelihood_diff", 9.2950606281440606, 3.3404665029805183},
                {"pct_stereotype", 0.41666666666666669, 0.1486470975026408},
            }},
           {"crows_pairs_english_religion", 0, 2, 0, 0, "",
            {
                {"likelihood_diff", 12.208910912235503, 11.012864793931533},
                {"pct_stereotype", 0.5, 0.5},
            }},
           {"crows_pairs_english_sexual_orientation", 0, 1, 0, 0, "",
            {
                {"likelihood_diff", 6.1548898487193782, kNaN},
                {"pct_stereotype", 0, kNaN},
            }},
           {"crows_pairs_english_socioeconomic", 0, 5, 0, 0, "",
            {
                {"likelihood_diff", 6.9116937266326719, 2.0223381777151794},
                {"pct_stereotype", 0, 0},
            }},
       }},
      {"bbq", 4, 0,
       {288, 38112, 2892, 0, -8527.0486533654766},
       {
           {"bbq", 0, 24, 11956, 0, "",
            {
                {"acc", 0.5, 0.1042572070285374},
                {"accuracy_amb", 1, 0},
                {"accuracy_disamb", 0, 0},
                {"amb_bias_score", 0, 0},
                {"disamb_bias_score", 0, 0},
                {"accuracy_amb_Age", 1, 0},
                {"accuracy_disamb_Age", 0, 0},
                {"amb_bias_score_Age", 0, 0},
                {"disamb_bias_score_Age", 0, 0},
                {"accuracy_amb_Disability_status", 1, 0},
                {"accuracy_disamb_Disability_status", 0, 0},
                {"amb_bias_score_Disability_status", 0, 0},
                {"disamb_bias_score_Disability_status", 0, 0},
                {"accuracy_amb_Nationality", 1, 0},
                {"accuracy_disamb_Nationality", 0, 0},
                {"amb_bias_score_Nationality", 0, 0},
                {"disamb_bias_score_Nationality", 0, 0},
                {"accuracy_amb_Physical_appearance", 1, 0},
                {"accuracy_disamb_Physical_appearance", 0, 0},
                {"amb_bias_score_Physical_appearance", 0, 0},
                {"disamb_bias_score_Physical_appearance", 0, 0},
                {"accuracy_amb_Religion", 1, 0},
                {"accuracy_disamb_Religion", 0, 0},
                {"amb_bias_score_Religion", 0, 0},
                {"disamb_bias_score_Religion", 0, 0},
                {"accuracy_amb_Sexual_orientation", 1, 0},
                {"accuracy_disamb_Sexual_orientation", 0, 0},
                {"amb_bias_score_Sexual_orientation", 0, 0},
                {"disamb_bias_score_Sexual_orientation", 0, 0},
            }},
       }},
      {"winobias", 5, 0,
       {60, 3190, 967, 0, -3618.7216763733845},
       {
           {"winobias", 0, 10, 762, 30, "winobias/pro_stereotyped_type1.txt.test line 43",
            {
                {"pct_pro_preferred", 0.5, 0.16666666666666666},
                {"likelihood_diff", -0.23252510524107778, 0.45218513056897786},
                {"acc_pro", 0.40000000000000002, 0.16329931618554522},
                {"acc_anti", 0.40000000000000002, 0.16329931618554522},
                {"acc_gap", 0, 0.23094010767585033},
                {"pct_pro_preferred_type1", 0.40000000000000002, 0.24494897427831783},
                {"likelihood_diff_type1", -0.42322610440413655, 0.49757123428877487},
                {"acc_pro_type1", 0.40000000000000002, 0.24494897427831783},
                {"acc_anti_type1", 0.40000000000000002, 0.24494897427831783},
                {"acc_gap_type1", 0, 0.34641016151377552},
                {"pct_pro_preferred_type2", 0.59999999999999998, 0.24494897427831783},
                {"likelihood_diff_type2", -0.041824106078018987, 0.808925643462999},
                {"acc_pro_type2", 0.40000000000000002, 0.24494897427831783},
                {"acc_anti_type2", 0.40000000000000002, 0.24494897427831783},
                {"acc_gap_type2", 0, 0.34641016151377552},
            }},
       }},
  };
}

std::vector<PinnedRun> demo_runs() {
  return {
      {"wikitext", 1, 0,
       {4, 439, 1613, 0, -6292.714909802743},
       {
           {"wikitext", 0, 1, 62, 0, "",
            {
                {"word_perplexity", 316.48859310286065, kNaN},
                {"byte_perplexity", 3.035614220982807, kNaN},
                {"bits_per_byte", 1.6019884584613477, kNaN},
            }},
       }},
      {"lambada_openai", 8, 2,
       {8, 2026, 16, 0, -68.524406566855546},
       {
           {"lambada_openai", 2, 8, 5153, 0, "",
            {
                {"perplexity", 5247.7296837049043, 6739.0824596973307},
                {"acc", 0, 0},
            }},
       }},
      {"boolq", 8, 1,
       {16, 5852, 16, 0, -192.54990708449569},
       {
           {"boolq", 1, 8, 3270, 0, "",
            {
                {"acc", 0.25, 0.16366341767699427},
            }},
       }},
      {"arc_easy", 8, 1,
       {32, 1980, 168, 0, -767.60081719961784},
       {
           {"arc_easy", 1, 8, 2376, 0, "",
            {
                {"acc", 0.25, 0.16366341767699427},
                {"acc_norm", 0.25, 0.16366341767699427},
            }},
       }},
      {"arc_challenge", 8, 0,
       {32, 1840, 293, 0, -1159.4880421992473},
       {
           {"arc_challenge", 0, 8, 1172, 0, "",
            {
                {"acc", 0.375, 0.18298126367784995},
                {"acc_norm", 0.5, 0.1889822365046136},
            }},
       }},
      {"crows_pairs_english", 40, 0,
       {80, 80, 1376, 0, -6783.1589370764505},
       {
           {"crows_pairs_english", 0, 40, 1508, 0, "",
            {
                {"likelihood_diff", 4.9691220641177605, 0.70332856317187253},
                {"pct_stereotype", 0.47499999999999998, 0.079963934178045329},
            }},
           {"crows_pairs_english_age", 0, 1, 0, 0, "",
            {
                {"likelihood_diff", 5.4031787151007435, kNaN},
                {"pct_stereotype", 1, kNaN},
            }},
           {"crows_pairs_english_disability", 0, 3, 0, 0, "",
            {
                {"likelihood_diff", 7.2835319771330775, 2.5746838826286145},
                {"pct_stereotype", 0.33333333333333331, 0.33333333333333337},
            }},
           {"crows_pairs_english_gender", 0, 9, 0, 0, "",
            {
                {"likelihood_diff", 4.3281327997454611, 2.026650392006569},
                {"pct_stereotype", 0.44444444444444442, 0.17568209223157663},
            }},
           {"crows_pairs_english_nationality", 0, 4, 0, 0, "",
            {
                {"likelihood_diff", 7.2145541250033602, 3.3691881661439496},
                {"pct_stereotype", 0.25, 0.25},
            }},
           {"crows_pairs_english_physical_appearance", 0, 3, 0, 0, "",
            {
                {"likelihood_diff", 4.8786319551860089, 2.2348681270995527},
                {"pct_stereotype", 1, 0},
            }},
           {"crows_pairs_english_race_color", 0, 12, 0, 0, "",
            {
                {"likelihood_diff", 3.3356609964075332, 0.75119883117837816},
                {"pct_stereotype", 0.5, 0.15075567228888181},
            }},
           {"crows_pairs_english_religion", 0, 2, 0, 0, "",
            {
                {"likelihood_diff", 9.8743908083601184, 1.2503568389001598},
                {"pct_stereotype", 0.5, 0.5},
            }},
           {"crows_pairs_english_sexual_orientation", 0, 1, 0, 0, "",
            {
                {"likelihood_diff", 8.2790895953385331, kNaN},
                {"pct_stereotype", 1, kNaN},
            }},
           {"crows_pairs_english_socioeconomic", 0, 5, 0, 0, "",
            {
                {"likelihood_diff", 4.2015994371961414, 1.705813740689796},
                {"pct_stereotype", 0.20000000000000001, 0.20000000000000004},
            }},
       }},
      {"bbq", 4, 1,
       {288, 37200, 1000, 0, -6512.9319878095548},
       {
           {"bbq", 1, 24, 11956, 0, "",
            {
                {"acc", 0.5, 0.1042572070285374},
                {"accuracy_amb", 1, 0},
                {"accuracy_disamb", 0, 0},
                {"amb_bias_score", 0, 0},
                {"disamb_bias_score", 0, 0},
                {"accuracy_amb_Age", 1, 0},
                {"accuracy_disamb_Age", 0, 0},
                {"amb_bias_score_Age", 0, 0},
                {"disamb_bias_score_Age", 0, 0},
                {"accuracy_amb_Disability_status", 1, 0},
                {"accuracy_disamb_Disability_status", 0, 0},
                {"amb_bias_score_Disability_status", 0, 0},
                {"disamb_bias_score_Disability_status", 0, 0},
                {"accuracy_amb_Nationality", 1, 0},
                {"accuracy_disamb_Nationality", 0, 0},
                {"amb_bias_score_Nationality", 0, 0},
                {"disamb_bias_score_Nationality", 0, 0},
                {"accuracy_amb_Physical_appearance", 1, 0},
                {"accuracy_disamb_Physical_appearance", 0, 0},
                {"amb_bias_score_Physical_appearance", 0, 0},
                {"disamb_bias_score_Physical_appearance", 0, 0},
                {"accuracy_amb_Religion", 1, 0},
                {"accuracy_disamb_Religion", 0, 0},
                {"amb_bias_score_Religion", 0, 0},
                {"disamb_bias_score_Religion", 0, 0},
                {"accuracy_amb_Sexual_orientation", 1, 0},
                {"accuracy_disamb_Sexual_orientation", 0, 0},
                {"amb_bias_score_Sexual_orientation", 0, 0},
                {"disamb_bias_score_Sexual_orientation", 0, 0},
            }},
       }},
      {"winobias", 5, 0,
       {60, 1422, 416, 0, -2337.5482967416838},
       {
           {"winobias", 0, 10, 762, 30, "winobias/pro_stereotyped_type1.txt.test line 43",
            {
                {"pct_pro_preferred", 0.59999999999999998, 0.16329931618554522},
                {"likelihood_diff", 0.2207843284002024, 0.53471285719597461},
                {"acc_pro", 0.5, 0.16666666666666666},
                {"acc_anti", 0.29999999999999999, 0.15275252316519464},
                {"acc_gap", 0.20000000000000001, 0.22607766610417557},
                {"pct_pro_preferred_type1", 0.59999999999999998, 0.24494897427831783},
                {"likelihood_diff_type1", -0.031800267273820279, 0.97541758386827093},
                {"acc_pro_type1", 0.40000000000000002, 0.24494897427831783},
                {"acc_anti_type1", 0.20000000000000001, 0.20000000000000004},
                {"acc_gap_type1", 0.20000000000000001, 0.316227766016838},
                {"pct_pro_preferred_type2", 0.59999999999999998, 0.24494897427831783},
                {"likelihood_diff_type2", 0.47336892407422509, 0.55071891789074379},
                {"acc_pro_type2", 0.59999999999999998, 0.24494897427831783},
                {"acc_anti_type2", 0.40000000000000002, 0.24494897427831783},
                {"acc_gap_type2", 0.19999999999999996, 0.34641016151377552},
            }},
       }},
  };
}
// PINNED-TABLES-END
// ---------------------------------------------------------------------------------------------

bool same_double(double got, double want) {
  if (std::isnan(want)) return std::isnan(got);
  if (got == want) return true;
#if defined(__clang__)
  // Pinned with GCC's build; clang 14's Release build arranges the float arithmetic differently and
  // moves log-likelihood figures by up to 1e-5 of max(1, |value|) (9.3e-6 when measured), while
  // every count, token total and greedy match stays equal. A changed prompt or reader moves those.
  return std::abs(got - want) <= 1e-4 * std::max(1.0, std::abs(want));
#else
  return std::abs(got - want) <= 1e-12 * std::abs(want);
#endif
}

std::string c_double(double v) {
  if (std::isnan(v)) return "kNaN";
  if (std::isinf(v)) return v > 0 ? "std::numeric_limits<double>::infinity()" : "-std::numeric_limits<double>::infinity()";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string c_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

PinnedRequests summarize(const LoglikelihoodLog& log) {
  PinnedRequests p{static_cast<int64_t>(log.requests.size()), 0, 0, 0, 0.0};
  for (const auto& r : log.requests) {
    p.context_tokens += static_cast<int64_t>(r.context.size());
    p.continuation_tokens += static_cast<int64_t>(r.continuation.size());
  }
  for (const auto& r : log.results) {
    p.greedy += r.is_greedy ? 1 : 0;
    p.logprob_sum += r.logprob;
  }
  return p;
}

// The results as a PinnedRun initializer, for re-pinning after an intended change.
std::string as_table(const std::string& task, int64_t limit, int64_t num_fewshot, const PinnedRequests& req,
                     const std::vector<TaskResult>& got) {
  std::ostringstream s;
  s << "      {" << c_string(task) << ", " << limit << ", " << num_fewshot << ",\n       {" << req.count << ", "
    << req.context_tokens << ", " << req.continuation_tokens << ", " << req.greedy << ", "
    << c_double(req.logprob_sum) << "},\n       {\n";
  for (const auto& r : got) {
    s << "           {" << c_string(r.task) << ", " << r.num_fewshot << ", " << r.samples << ", " << r.available << ", "
      << r.skipped << ", " << c_string(r.skipped_detail) << ",\n            {\n";
    for (const auto& m : r.metrics)
      s << "                {" << c_string(m.name) << ", " << c_double(m.value) << ", " << c_double(m.stderr_value)
        << "},\n";
    s << "            }},\n";
  }
  s << "       }},\n";
  return s.str();
}

void expect_pinned(const PinnedRun& run, const PinnedRequests& req, const std::vector<TaskResult>& got) {
  EXPECT_EQ(req.count, run.requests.count) << "requests of " << run.task;
  EXPECT_EQ(req.context_tokens, run.requests.context_tokens) << "context tokens of " << run.task;
  EXPECT_EQ(req.continuation_tokens, run.requests.continuation_tokens) << "continuation tokens of " << run.task;
  EXPECT_EQ(req.greedy, run.requests.greedy) << "greedy continuations of " << run.task;
  EXPECT_PRED2(same_double, req.logprob_sum, run.requests.logprob_sum) << "log-likelihood sum of " << run.task;
  ASSERT_EQ(got.size(), run.expected.size()) << "results of " << run.task;
  for (size_t i = 0; i < got.size(); ++i) {
    const PinnedTask& want = run.expected[i];
    const TaskResult& r = got[i];
    EXPECT_EQ(r.task, want.task);
    EXPECT_EQ(r.num_fewshot, want.num_fewshot) << want.task;
    EXPECT_EQ(r.samples, want.samples) << want.task;
    EXPECT_EQ(r.available, want.available) << want.task;
    EXPECT_EQ(r.skipped, want.skipped) << want.task;
    EXPECT_EQ(r.skipped_detail, want.skipped_detail) << want.task;
    ASSERT_EQ(r.metrics.size(), want.metrics.size()) << want.task;
    for (size_t m = 0; m < r.metrics.size(); ++m) {
      EXPECT_EQ(r.metrics[m].name, want.metrics[m].name) << want.task;
      EXPECT_PRED2(same_double, r.metrics[m].value, want.metrics[m].value) << want.task << " " << want.metrics[m].name;
      EXPECT_PRED2(same_double, r.metrics[m].stderr_value, want.metrics[m].stderr_value)
          << want.task << " " << want.metrics[m].name << " stderr";
    }
  }
}

struct LoadedModel {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
};

const LoadedModel& loaded(const fs::path& dir) {
  static std::map<std::string, std::unique_ptr<LoadedModel>> cache;
  auto& slot = cache[dir.string()];
  if (!slot) slot.reset(new LoadedModel{load_model(dir.string()), load_tokenizer(dir)});
  return *slot;
}

void run_pinned(const fs::path& model_dir, const std::vector<PinnedRun>& runs) {
  const fs::path data = test::shared_path("data");
  OPTIPFAIR_REQUIRE_SHARED(model_dir / "config.json");
  OPTIPFAIR_REQUIRE_SHARED(data / "boolq/val.jsonl");
#ifdef OPTIPFAIR_SANITIZER_BUILD
  GTEST_SKIP() << "figures are pinned for the Release build's arithmetic; a sanitizer build rounds differently";
#endif
  if (matmul_isa_best() != MatmulIsa::Avx512Bf16)
    GTEST_SKIP() << "figures were pinned on an AVX-512 BF16 CPU; this one's best is "
                 << matmul_isa_name(matmul_isa_best());
  const LoadedModel& m = loaded(model_dir);
  // The figures do not depend on the thread count (checked with 1 and 2 when they were pinned);
  // one thread keeps this test quick when other tests share the machine's cores.
  struct OneThread {
    int saved = omp_get_max_threads();
    OneThread() { omp_set_num_threads(1); }
    ~OneThread() { omp_set_num_threads(saved); }
  } one_thread;
  std::string repin;
  for (const auto& run : runs) {
    EvalOptions o;
    o.tasks = {run.task};
    o.limit = run.limit;
    o.num_fewshot = run.num_fewshot;
    o.data_dir = data;
    o.progress = false;
    LoglikelihoodLog log;
    o.request_log = &log;
    const std::vector<TaskResult> got = run_eval_tasks(m.model, *m.tokenizer, o);
    const PinnedRequests req = summarize(log);
    repin += as_table(run.task, run.limit, run.num_fewshot, req, got);
    expect_pinned(run, req, got);
  }
  if (::testing::Test::HasFailure()) std::printf("Figures this run produced (%s):\n%s", model_dir.c_str(), repin.c_str());
}

TEST(EvalPinned, Stories260kEveryTask) { run_pinned(test::shared_path("models/stories260K-hf"), stories260k_runs()); }

TEST(EvalPinned, DemoModelEveryTask) { run_pinned(fs::path(OPTIPFAIR_DEMO_MODEL), demo_runs()); }

}  // namespace
}  // namespace optipfair
