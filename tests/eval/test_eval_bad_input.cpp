// Bad data folders: a missing file says which and where, malformed lines are skipped and counted
// with the first one's place, a file without a usable item is one clear sentence that says so
// (not "not found"), and an unknown task lists the known ones.
#include <fstream>

#include <gtest/gtest.h>

#include "eval/eval_tasks.h"
#include "eval_test_model.h"
#include "test_support.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;

class EvalBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path demo = OPTIPFAIR_DEMO_MODEL;
    if (!fs::exists(demo / "tokenizer.json")) GTEST_SKIP() << "demo model missing: " << (demo / "tokenizer.json");
    tok = load_tokenizer(demo);
    model = test::synthetic_model_for_vocab(tok->vocab_size() + 64, 5);
  }
  EvalOptions options(const std::string& task, int64_t num_fewshot = 0) {
    EvalOptions o;
    o.tasks = {task};
    o.data_dir = dir.path();
    o.num_fewshot = num_fewshot;
    o.progress = false;
    return o;
  }
  std::string error_of(const EvalOptions& o) {
    try {
      run_eval_tasks(model, *tok, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  void write(const std::string& relative, const std::string& text) {
    fs::create_directories((dir / relative).parent_path());
    std::ofstream(dir / relative, std::ios::binary) << text;
  }

  test::SingleThread one_thread;
  test::ScratchDir dir;
  std::unique_ptr<Tokenizer> tok;
  Model model;
};

const char* kArcLine =
    R"({"question": {"stem": "Which is a liquid?", "choices": [{"text": "water", "label": "A"}, {"text": "rock", "label": "B"}]}, "answerKey": "A"})";

TEST_F(EvalBadInput, MissingDataFileSaysWhichAndWhere) {
  const std::string msg = error_of(options("boolq"));
  EXPECT_EQ(msg, "task boolq needs the data file boolq/val.jsonl, which was not found at " + (dir / "boolq/val.jsonl").string() +
                     " (point --data-dir at a folder holding it)");
  EXPECT_EQ(error_of(options("bbq")),
            "task bbq needs at least one of bbq/Age.jsonl ... bbq/Sexual_orientation.jsonl, none was found in " +
                (dir / "bbq").string() + " (point --data-dir at a folder holding them)");
  EXPECT_NE(error_of(options("wikitext")).find("wikitext-2-raw/wiki.test.raw, which was not found"), std::string::npos);
}

TEST_F(EvalBadInput, MalformedLinesAreSkippedAndCounted) {
  write("boolq/val.jsonl", std::string(R"({"question": "is it", "passage": "It is.", "idx": 0, "label": "true"})") + "\n" +
                               R"({"question": "broken", "passage": )" + "\n" +
                               R"({"question": "no label", "passage": "x", "idx": 2})" + "\n\n" +
                               R"({"question": "is it not", "passage": "It is not.", "idx": 3, "label": false})" + "\n");
  const auto rs = run_eval_tasks(model, *tok, options("boolq"));
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].samples, 2);
  EXPECT_EQ(rs[0].available, 2);
  EXPECT_EQ(rs[0].skipped, 2);
  EXPECT_EQ(rs[0].skipped_detail, "boolq/val.jsonl line 2");
}

// Issue 13: a BBQ file that is there but holds only malformed lines was reported as "not found".
TEST_F(EvalBadInput, BbqFileWithOnlyMalformedLinesSaysSo) {
  write("bbq/Age.jsonl", "{\"context\": \"no answers\"}\nnot json\n");
  EXPECT_EQ(error_of(options("bbq")),
            "task bbq found no usable item in bbq/Age.jsonl (2 skipped as malformed or unusable; "
            "first: bbq/Age.jsonl line 1)");
}

// The same fault one step earlier: a data file that is there but cannot be read is not "not found".
TEST_F(EvalBadInput, DataFileThatCannotBeReadIsNotReportedMissing) {
  fs::create_directories(dir / "bbq/Age.jsonl");
  EXPECT_EQ(error_of(options("bbq")),
            "task bbq found the data file bbq/Age.jsonl at " + (dir / "bbq/Age.jsonl").string() +
                " but cannot read it (it is a folder)");
  fs::create_directories(dir / "boolq/val.jsonl");
  EXPECT_EQ(error_of(options("boolq")), "task boolq found the data file boolq/val.jsonl at " +
                                            (dir / "boolq/val.jsonl").string() + " but cannot read it (it is a folder)");
}

// The same fault checked for every other task: files present, nothing usable in them.
TEST_F(EvalBadInput, EveryTaskSaysWhenItsFilesHoldNoUsableItem) {
  write("boolq/val.jsonl", "");
  EXPECT_EQ(error_of(options("boolq")), "task boolq found no item in boolq/val.jsonl, which is empty");
  write("lambada_openai/lambada_test.jsonl", "{\"text\": \"oneword\"}\n");
  EXPECT_EQ(error_of(options("lambada_openai")),
            "task lambada_openai found no usable item in lambada_openai/lambada_test.jsonl (1 skipped as malformed or "
            "unusable; first: lambada_openai/lambada_test.jsonl line 1)");
  write("arc/ARC-Easy-Test.jsonl", "\n\n");
  EXPECT_EQ(error_of(options("arc_easy")), "task arc_easy found no item in arc/ARC-Easy-Test.jsonl, which is empty");
  write("crows-pairs/crows_pairs_anonymized.csv", ",sent_more,sent_less,stereo_antistereo,bias_type\n");
  EXPECT_EQ(error_of(options("crows_pairs_english")),
            "task crows_pairs_english found no item in crows-pairs/crows_pairs_anonymized.csv, which is empty");
  write("wikitext-2-raw/wiki.test.raw", " \n \n");
  EXPECT_EQ(error_of(options("wikitext")), "task wikitext found no item in wikitext-2-raw/wiki.test.raw, which is empty");
  write("winobias/male_occupations.txt", "developer\n");
  write("winobias/female_occupations.txt", "designer\n");
  for (const char* f : {"pro_stereotyped_type1", "anti_stereotyped_type1", "pro_stereotyped_type2", "anti_stereotyped_type2"})
    write(std::string("winobias/") + f + ".txt.test", "no number or brackets\n");
  EXPECT_EQ(error_of(options("winobias")),
            "task winobias found no usable item in winobias/pro_stereotyped_type1.txt.test, "
            "winobias/anti_stereotyped_type1.txt.test, winobias/pro_stereotyped_type2.txt.test, "
            "winobias/anti_stereotyped_type2.txt.test (2 skipped as malformed or unusable; "
            "first: winobias/pro_stereotyped_type1.txt.test line 1)");
}

// ARC's few-shot examples come from its Dev split: without a usable one, --num-fewshot is an
// error rather than prompts silently without examples; a malformed Dev line is counted.
TEST_F(EvalBadInput, ArcFewShotNeedsItsDevSplitAndCountsItsMalformedLines) {
  write("arc/ARC-Easy-Test.jsonl", std::string(kArcLine) + "\n");
  EXPECT_EQ(error_of(options("arc_easy", 1)).find("task arc_easy needs the data file arc/ARC-Easy-Dev.jsonl"), 0u);
  write("arc/ARC-Easy-Dev.jsonl", "{\"question\": {}}\n");
  EXPECT_EQ(error_of(options("arc_easy", 1)),
            "task arc_easy found no usable item in arc/ARC-Easy-Dev.jsonl (1 skipped as malformed or unusable; "
            "first: arc/ARC-Easy-Dev.jsonl line 1)");
  write("arc/ARC-Easy-Dev.jsonl", std::string(kArcLine) + "\n{\"question\": {}}\n");
  const auto rs = run_eval_tasks(model, *tok, options("arc_easy", 1));
  EXPECT_EQ(rs[0].samples, 1);
  EXPECT_EQ(rs[0].available, 1);
  EXPECT_EQ(rs[0].skipped, 1);
  EXPECT_EQ(rs[0].skipped_detail, "arc/ARC-Easy-Dev.jsonl line 2");
  EXPECT_EQ(error_of(options("arc_easy", -1)), "--num-fewshot cannot be negative");
}

TEST_F(EvalBadInput, UnknownTaskListsTheKnownOnes) {
  EXPECT_EQ(error_of(options("hellaswag")),
            "unknown task 'hellaswag'; the known tasks are: wikitext, lambada_openai, boolq, arc_easy, arc_challenge, "
            "crows_pairs_english, bbq, winobias (or all)");
  EXPECT_EQ(resolve_eval_tasks({"crows_pairs", "boolq", "boolq"}),
            (std::vector<std::string>{"crows_pairs_english", "boolq"}));
  EXPECT_EQ(resolve_eval_tasks({"all"}), eval_task_names());
}

TEST_F(EvalBadInput, WinobiasLineWithoutTwoBracketsIsSkippedWithItsLine) {
  write("winobias/male_occupations.txt", "developer\nmechanic\n");
  write("winobias/female_occupations.txt", "designer\nclerk\n");
  for (const char* kind : {"pro", "anti"})
    for (int type : {1, 2}) {
      const char* pron = std::string(kind) == "pro" ? "he" : "she";
      write("winobias/" + std::string(kind) + "_stereotyped_type" + std::to_string(type) + ".txt.test",
            "1 [The developer] argued with the designer because [" + std::string(pron) +
                "] did not like the design.\n2 The mechanic gave the clerk a present because he won.\n");
    }
  const auto rs = run_eval_tasks(model, *tok, options("winobias"));
  EXPECT_EQ(rs[0].samples, 2);
  EXPECT_EQ(rs[0].skipped, 2);
  EXPECT_EQ(rs[0].skipped_detail, "winobias/pro_stereotyped_type1.txt.test line 2");
}

}  // namespace
}  // namespace optipfair
