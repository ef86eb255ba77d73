// Generation on real pretrained models against independent references: llama2.c's run.c for
// stories260K and transformers' greedy samples recorded with the demo model.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "generate/text_generation.h"
#include "io/load_model.h"
#include "model/forward.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace optipfair {
namespace {

const char* kPinnedBeam =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. "
    "One day, Lily's mom asked her to hel";

const char* kReference =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw "
    "a big, red ball. She wanted to play with it, but it was too high.\nLily";

struct Loaded {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Loaded load(const std::filesystem::path& path) {
  Loaded l{load_model(path.string(), LoadOptions{false}), load_tokenizer(path)};
  return l;
}

GenerationConfig greedy_config(const Loaded& l, int64_t max_length) {
  GenerationConfig c = generation_config_for_model(l.model, *l.tokenizer);
  c.max_length = max_length;
  return c;
}

// run.c with steps = 64 runs 64 forward passes from BOS, printing the prompt then what follows:
// 64 tokens after BOS, 65 with it.
void expect_reference(const std::filesystem::path& path) {
  const Loaded l = load(path);
  const std::vector<std::string> prompts = {"Once upon a time"};
  const auto out = generate_text(l.model, *l.tokenizer, prompts, greedy_config(l, 65));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].texts.size(), 1u);
  EXPECT_EQ(out[0].prompt_ids.front(), 1);  // BOS
  EXPECT_EQ(out[0].sequences[0].tokens.size(), 65u);
  EXPECT_EQ(out[0].texts[0], kReference);
}

TEST(GenerateStories, GreedyMatchesLlama2cOnCheckpoint) {
  const auto path = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(path);
  expect_reference(path);
}

TEST(GenerateStories, GreedyMatchesLlama2cOnHuggingFaceFolder) {
  const auto path = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(path / "model.safetensors");
  expect_reference(path);
}

TEST(GenerateStories, StreamingPrintsTheSameText) {
  const auto path = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const Loaded l = load(path);
  const std::vector<std::string> prompts = {"Once upon a time"};
  std::string streamed;
  int pieces = 0;
  const auto out = generate_text(l.model, *l.tokenizer, prompts, greedy_config(l, 65), [&](std::string_view piece) {
    streamed += piece;
    ++pieces;
  });
  EXPECT_EQ("Once upon a time" + streamed, kReference);
  EXPECT_EQ(out[0].continuations[0], streamed);
  EXPECT_GT(pieces, 20);
}

TEST(GenerateStories, BatchedPromptsEqualSinglePrompts) {
  const auto path = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const Loaded l = load(path);
  const std::vector<std::string> prompts = {"Once upon a time", "Tom had a dog", "The sun"};
  for (int beams : {1, 3}) {
    GenerationConfig c = greedy_config(l, 30);
    c.num_beams = beams;
    const auto batched = generate_text(l.model, *l.tokenizer, prompts, c);
    for (size_t p = 0; p < prompts.size(); ++p) {
      const auto alone = generate_text(l.model, *l.tokenizer, std::span(&prompts[p], 1), c);
      EXPECT_EQ(batched[p].sequences[0].tokens, alone[0].sequences[0].tokens) << prompts[p] << " beams " << beams;
    }
  }
}

// The notebook's settings: do_sample=False, num_beams=5, early_stopping=True,
// no_repeat_ngram_size=2, max_length=50. Pinned after checking the text reads as a story
// continuation and holds no repeated bigram.
TEST(GenerateStories, BeamSearchWithNotebookSettingsIsPinned) {
  const auto path = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const Loaded l = load(path);
  GenerationConfig c = greedy_config(l, 50);
  c.num_beams = 5;
  c.early_stopping = EarlyStopping::True;
  c.no_repeat_ngram_size = 2;
  const std::vector<std::string> prompts = {"Once upon a time"};
  const uint64_t calls_before = forward_call_count();
  const auto first = generate_text(l.model, *l.tokenizer, prompts, c);
  const uint64_t calls = forward_call_count() - calls_before;
  const auto second = generate_text(l.model, *l.tokenizer, prompts, c);
  ASSERT_EQ(first[0].sequences.size(), 1u);
  EXPECT_EQ(first[0].sequences[0].tokens, second[0].sequences[0].tokens);
  // One model call for the prompt and one per new token at most: all beams go together.
  EXPECT_LE(calls, 50u - first[0].prompt_ids.size() + 1);
  const auto& tokens = first[0].sequences[0].tokens;
  std::set<std::pair<int32_t, int32_t>> bigrams;
  for (size_t i = 1; i < tokens.size(); ++i) EXPECT_TRUE(bigrams.insert({tokens[i - 1], tokens[i]}).second);
  EXPECT_EQ(first[0].texts[0], std::string(kPinnedBeam));
}

TEST(GenerateStories, SamplingWithASeedIsReproducible) {
  const auto path = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const Loaded l = load(path);
  GenerationConfig c = greedy_config(l, 20);
  c.max_new_tokens = 30;
  c.do_sample = true;
  c.top_p = 0.9;
  c.repetition_penalty = 1.2;
  const std::vector<std::string> prompts = {"Once upon a time"};
  auto run = [&](uint64_t seed) {
    c.seed = seed;
    return generate_text(l.model, *l.tokenizer, prompts, c)[0].sequences[0].tokens;
  };
  const auto a = run(1234);
  EXPECT_EQ(a, run(1234));
  EXPECT_NE(a, run(99));
}

TEST(GenerateStories, EmptyPromptIsAClearError) {
  const auto path = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const Loaded l = load(path);
  const std::vector<std::string> prompts = {"Once", ""};
  try {
    generate_text(l.model, *l.tokenizer, prompts, greedy_config(l, 20));
    ADD_FAILURE() << "an empty prompt was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("prompt is empty"), std::string::npos) << e.what();
  }
  GenerationConfig c = greedy_config(l, 3);  // BOS + "Once upon a time" is longer than that
  const std::vector<std::string> one = {"Once upon a time"};
  EXPECT_THROW(generate_text(l.model, *l.tokenizer, one, c), Error);
}

// transformers' greedy output for the demo model (its samples.json): 50 new tokens after BOS + prompt.
TEST(GenerateDemo, GreedyMatchesTransformersSamples) {
  const auto dir = test::shared_path("models/demo-llama-7m");
  OPTIPFAIR_REQUIRE_SHARED(dir / "samples.json");
  const Loaded l = load(dir);
  std::ifstream in(dir / "samples.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  GenerationConfig c = generation_config_for_model(l.model, *l.tokenizer);
  c.max_new_tokens = 50;
  // The first two (the man / woman pair) keep the test quick under sanitizers.
  ASSERT_GE(j["samples"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& s = j["samples"][i];
    const std::string prompt = s["prompt"].get<std::string>();
    const auto out = generate_text(l.model, *l.tokenizer, std::span(&prompt, 1), c);
    EXPECT_EQ(out[0].prompt_ids, s["prompt_ids"].get<std::vector<int32_t>>()) << prompt;
    std::vector<int32_t> expected = out[0].prompt_ids;
    for (int32_t t : s["new_ids"].get<std::vector<int32_t>>()) expected.push_back(t);
    EXPECT_EQ(out[0].sequences[0].tokens, expected) << prompt;
  }
}

}  // namespace
}  // namespace optipfair
