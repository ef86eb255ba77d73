#include "generate/generate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "generate/logits_processors.h"
#include "util/error.h"

namespace optipfair {

namespace {

bool is_eos(const GenerationConfig& c, int32_t token) {
  return std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), token) != c.eos_token_ids.end();
}

std::span<const float> row_of(const std::vector<float>& logits, size_t row, int64_t vocab) {
  return std::span<const float>(logits).subspan(row * static_cast<size_t>(vocab), static_cast<size_t>(vocab));
}

// A uniform draw in [0, 1) built from the raw 64-bit output, so that a seed gives the same
// samples with every standard library (std::uniform_real_distribution is not portable).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

int32_t sample_from(std::span<const float> scores, std::mt19937_64& rng) {
  const float top = *std::max_element(scores.begin(), scores.end());
  if (std::isinf(top) && top < 0) return 0;  // everything filtered out: torch would fail; keep going
  double total = 0;
  for (float s : scores) total += std::exp(static_cast<double>(s) - top);
  const double target = uniform01(rng) * total;
  double cumulative = 0;
  int32_t last_possible = 0;
  for (size_t t = 0; t < scores.size(); ++t) {
    const double p = std::exp(static_cast<double>(scores[t]) - top);
    if (p <= 0) continue;
    cumulative += p;
    last_possible = static_cast<int32_t>(t);
    if (target < cumulative) return last_possible;
  }
  return last_possible;  // rounding left the draw past the sum
}

double token_logprob(std::span<const float> logits, int32_t token) {
  const float top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float s : logits) sum += std::exp(static_cast<double>(s) - top);
  return static_cast<double>(logits[static_cast<size_t>(token)]) - top - std::log(sum);
}

std::vector<PromptResult> greedy_or_sample(LogitsSource& source, std::span<const std::vector<int32_t>> prompts,
                                           const GenerationConfig& c, const TokenCallback& on_token) {
  const int64_t vocab = source.vocab_size();
  const size_t copies = c.do_sample ? static_cast<size_t>(c.num_return_sequences) : 1;
  const size_t n = prompts.size() * copies;

  struct Live {
    std::vector<int32_t> tokens;
    double score = 0;
    int64_t max_length = 0;
    bool done = false;
  };
  std::vector<Live> live(n);
  int64_t capacity = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto& prompt = prompts[i / copies];
    live[i].tokens = prompt;
    live[i].max_length = generation_max_length(c, static_cast<int64_t>(prompt.size()));
    capacity = std::max(capacity, live[i].max_length);
  }
  source.slots_reset(static_cast<int64_t>(n), capacity);

  // Each prompt runs once; its copies share that state.
  std::vector<SlotTokens> items;
  for (size_t p = 0; p < prompts.size(); ++p) items.push_back({static_cast<int32_t>(p * copies), prompts[p]});
  std::vector<float> logits = source.slots_feed(items);
  std::vector<size_t> row_of_slot(n);
  if (copies > 1) {
    std::vector<int32_t> sources(n);
    for (size_t i = 0; i < n; ++i) sources[i] = static_cast<int32_t>((i / copies) * copies);
    source.slots_reorder(sources);
  }
  for (size_t i = 0; i < n; ++i) row_of_slot[i] = i / copies;

  std::mt19937_64 rng(c.seed);
  std::vector<float> scores(static_cast<size_t>(vocab));
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      Live& s = live[i];
      if (s.done) continue;
      const std::span<const float> row = row_of(logits, row_of_slot[i], vocab);
      scores.assign(row.begin(), row.end());
      repetition_penalty_apply(scores, s.tokens, c.repetition_penalty);
      no_repeat_ngram_apply(scores, s.tokens, c.no_repeat_ngram_size);
      int32_t token;
      if (c.do_sample) {
        temperature_apply(scores, c.temperature);
        top_k_apply(scores, c.top_k);
        top_p_apply(scores, c.top_p);
        token = sample_from(scores, rng);
      } else {
        token = argmax(scores);
      }
      s.score += token_logprob(row, token);
      s.tokens.push_back(token);
      if (on_token) on_token(i / copies, token);
      if (is_eos(c, token) || static_cast<int64_t>(s.tokens.size()) >= s.max_length) s.done = true;
    }
    items.clear();
    for (size_t i = 0; i < n; ++i) {
      if (live[i].done) continue;
      row_of_slot[i] = items.size();
      items.push_back({static_cast<int32_t>(i), std::span<const int32_t>(&live[i].tokens.back(), 1)});
    }
    if (items.empty()) break;
    logits = source.slots_feed(items);
  }

  std::vector<PromptResult> results(prompts.size());
  for (size_t i = 0; i < n; ++i) {
    PromptResult& r = results[i / copies];
    r.prompt_length = static_cast<int64_t>(prompts[i / copies].size());
    const bool eos = is_eos(c, live[i].tokens.back()) && static_cast<int64_t>(live[i].tokens.size()) > r.prompt_length;
    r.sequences.push_back({std::move(live[i].tokens), live[i].score, eos});
  }
  return results;
}

// One prompt's beam search, stepped from outside so that all prompts share each model call.
struct BeamSearch {
  struct Beam {
    std::vector<int32_t> tokens;
    float score = 0;  // summed log-probabilities, in float32 as transformers keeps them
    int32_t slot = 0;
  };
  struct Hypothesis {
    std::vector<int32_t> tokens;
    float score = 0;  // length-normalised
  };

  int64_t prompt_length = 0;
  int64_t max_length = 0;
  int64_t cur_len = 0;
  int32_t first_slot = 0;
  std::vector<Beam> running;
  std::vector<Hypothesis> finished;  // best first, at most num_beams
  bool improvable = true;            // HF's is_early_stop_heuristic_unsatisfied
  bool done = false;
};

float length_normalised(float sum_logprobs, int64_t length, double length_penalty) {
  return sum_logprobs / std::pow(static_cast<float>(length), static_cast<float>(length_penalty));
}

// One step of one prompt: `rows` holds one logits row per running beam. Returns, per new
// running beam, the index of the beam it extends (its cache must follow).
std::vector<int32_t> beam_step(BeamSearch& b, std::span<const float> rows, int64_t vocab, const GenerationConfig& c) {
  const int64_t num_beams = c.num_beams;
  struct Candidate {
    float score;
    int64_t flat;  // beam * vocab + token: the order transformers' top-k breaks ties in
  };
  std::vector<Candidate> candidates;
  std::vector<float> lp(static_cast<size_t>(vocab));
  for (size_t j = 0; j < b.running.size(); ++j) {
    const auto row = rows.subspan(j * static_cast<size_t>(vocab), static_cast<size_t>(vocab));
    lp.assign(row.begin(), row.end());
    // transformers' beam search applies the processors to log-probabilities, not logits.
    log_softmax_apply(lp);
    repetition_penalty_apply(lp, b.running[j].tokens, c.repetition_penalty);
    no_repeat_ngram_apply(lp, b.running[j].tokens, c.no_repeat_ngram_size);
    for (int64_t t = 0; t < vocab; ++t) {
      const float v = lp[static_cast<size_t>(t)];
      if (std::isinf(v) && v < 0) continue;
      candidates.push_back({b.running[j].score + v, static_cast<int64_t>(j) * vocab + t});
    }
  }
  const int64_t n_eos = static_cast<int64_t>(c.eos_token_ids.size());
  const size_t keep = std::min(candidates.size(), static_cast<size_t>(std::max<int64_t>(2, 1 + n_eos) * num_beams));
  auto better = [](const Candidate& x, const Candidate& y) {
    return x.score != y.score ? x.score > y.score : x.flat < y.flat;
  };
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(), better);
  candidates.resize(keep);

  const bool finals_allowed =
      b.improvable && !(c.early_stopping == EarlyStopping::True && static_cast<int64_t>(b.finished.size()) == num_beams);
  std::vector<BeamSearch::Beam> next;
  std::vector<int32_t> parents;
  std::vector<BeamSearch::Hypothesis> new_finished;
  for (size_t rank = 0; rank < candidates.size(); ++rank) {
    const int32_t parent = static_cast<int32_t>(candidates[rank].flat / vocab);
    const int32_t token = static_cast<int32_t>(candidates[rank].flat % vocab);
    const bool stops = is_eos(c, token) || b.cur_len + 1 >= b.max_length;
    if (stops) {
      // Only the top num_beams candidates may finish; the rest only back up the running set.
      if (static_cast<int64_t>(rank) < num_beams && finals_allowed) {
        BeamSearch::Hypothesis h{b.running[static_cast<size_t>(parent)].tokens,
                                 length_normalised(candidates[rank].score, b.cur_len + 1 - b.prompt_length,
                                                   c.length_penalty)};
        h.tokens.push_back(token);
        new_finished.push_back(std::move(h));
      }
    } else if (static_cast<int64_t>(next.size()) < num_beams) {
      BeamSearch::Beam beam{b.running[static_cast<size_t>(parent)].tokens, candidates[rank].score, 0};
      beam.tokens.push_back(token);
      next.push_back(std::move(beam));
      parents.push_back(parent);
    }
  }
  if (!new_finished.empty()) {
    for (auto& h : new_finished) b.finished.push_back(std::move(h));
    // Stable: on equal scores the hypothesis found earlier stays ahead, as in transformers' merge.
    std::stable_sort(b.finished.begin(), b.finished.end(),
                     [](const auto& x, const auto& y) { return x.score > y.score; });
    if (static_cast<int64_t>(b.finished.size()) > num_beams) b.finished.resize(static_cast<size_t>(num_beams));
  }
  b.cur_len += 1;
  b.running = std::move(next);

  const bool full = static_cast<int64_t>(b.finished.size()) == num_beams;
  if (!b.running.empty() && full) {
    const int64_t best_length = (c.early_stopping == EarlyStopping::Never && c.length_penalty > 0.0)
                                    ? b.max_length - b.prompt_length
                                    : b.cur_len - b.prompt_length;
    const float best_possible = length_normalised(b.running.front().score, best_length, c.length_penalty);
    if (!(best_possible > b.finished.back().score)) b.improvable = false;
  }
  b.done = b.running.empty() || !b.improvable || (c.early_stopping == EarlyStopping::True && full);
  return parents;
}

std::vector<PromptResult> beam_search(LogitsSource& source, std::span<const std::vector<int32_t>> prompts,
                                      const GenerationConfig& c) {
  const int64_t vocab = source.vocab_size();
  const int32_t num_beams = static_cast<int32_t>(c.num_beams);
  std::vector<BeamSearch> searches(prompts.size());
  int64_t capacity = 0;
  for (size_t p = 0; p < prompts.size(); ++p) {
    BeamSearch& b = searches[p];
    b.prompt_length = static_cast<int64_t>(prompts[p].size());
    b.max_length = generation_max_length(c, b.prompt_length);
    b.cur_len = b.prompt_length;
    b.first_slot = static_cast<int32_t>(p) * num_beams;
    b.running.push_back({prompts[p], 0.0f, b.first_slot});
    capacity = std::max(capacity, b.max_length);
  }
  source.slots_reset(static_cast<int64_t>(prompts.size()) * num_beams, capacity);

  std::vector<SlotTokens> items;
  for (const BeamSearch& b : searches) items.push_back({b.first_slot, b.running.front().tokens});
  std::vector<float> logits = source.slots_feed(items);
  std::vector<int32_t> sources(prompts.size() * static_cast<size_t>(num_beams));
  while (true) {
    for (size_t i = 0; i < sources.size(); ++i) sources[i] = static_cast<int32_t>(i);
    size_t row = 0;
    for (BeamSearch& b : searches) {
      if (b.done) continue;
      const size_t n_rows = b.running.size();
      const auto rows = std::span<const float>(logits).subspan(row * static_cast<size_t>(vocab), n_rows * static_cast<size_t>(vocab));
      std::vector<int32_t> old_slots;
      for (const auto& beam : b.running) old_slots.push_back(beam.slot);
      const std::vector<int32_t> parents = beam_step(b, rows, vocab, c);
      for (size_t j = 0; j < b.running.size(); ++j) {
        b.running[j].slot = b.first_slot + static_cast<int32_t>(j);
        sources[static_cast<size_t>(b.running[j].slot)] = old_slots[static_cast<size_t>(parents[j])];
      }
      row += n_rows;
    }
    items.clear();
    for (const BeamSearch& b : searches) {
      if (b.done) continue;
      for (const auto& beam : b.running) items.push_back({beam.slot, std::span<const int32_t>(&beam.tokens.back(), 1)});
    }
    if (items.empty()) break;
    source.slots_reorder(sources);
    logits = source.slots_feed(items);
  }

  std::vector<PromptResult> results(prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    BeamSearch& b = searches[p];
    PromptResult& r = results[p];
    r.prompt_length = b.prompt_length;
    const size_t n = std::min(b.finished.size(), static_cast<size_t>(c.num_return_sequences));
    for (size_t k = 0; k < n; ++k) {
      const bool eos = is_eos(c, b.finished[k].tokens.back());
      r.sequences.push_back({std::move(b.finished[k].tokens), static_cast<double>(b.finished[k].score), eos});
    }
  }
  return results;
}

}  // namespace

std::vector<PromptResult> generate(LogitsSource& source, std::span<const std::vector<int32_t>> prompts,
                                   const GenerationConfig& config, const TokenCallback& on_token) {
  generation_config_validate(config);
  if (prompts.empty()) return {};
  const int64_t vocab = source.vocab_size();
  for (size_t p = 0; p < prompts.size(); ++p) {
    if (prompts[p].empty()) throw Error("prompt " + std::to_string(p + 1) + " has no tokens; give some text");
    for (int32_t t : prompts[p])
      if (t < 0 || t >= vocab)
        throw Error("prompt " + std::to_string(p + 1) + " holds token id " + std::to_string(t) +
                    ", outside the model's vocabulary of " + std::to_string(vocab));
    generation_max_length(config, static_cast<int64_t>(prompts[p].size()));
  }
  if (config.num_beams > 1) return beam_search(source, prompts, config);
  return greedy_or_sample(source, prompts, config, on_token);
}

}  // namespace optipfair
