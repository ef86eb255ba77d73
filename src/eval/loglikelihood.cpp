#include "eval/loglikelihood.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <span>

#include "eval/eval_text.h"
#include "kernels/elementwise.h"
#include "model/forward.h"
#include "util/error.h"
#include "util/progress.h"

namespace optipfair {

namespace {

// log softmax(row)[target] and whether target is the first argmax (torch.argmax's tie rule).
// Float exponentials, as lm-eval's float32 log_softmax; partial sums keep the total accurate.
void score_row(const float* row, int64_t V, int32_t target, double* logprob, bool* greedy) {
  const float best = max_value(row, V);
  int64_t best_i = 0;
  while (best_i < V - 1 && !(row[best_i] == best)) ++best_i;
  *logprob = static_cast<double>(row[target] - best) - log_sum_exp_shifted(row, V, best);
  *greedy = best_i == target;
}

struct Group {
  std::vector<int32_t> context;
  std::vector<size_t> members;  // request indices, in input order
  int64_t capacity = 0;
};

// One sequence's slice of a forward call and what its logits rows will score.
struct Feed {
  size_t group;
  std::span<const int32_t> tokens;
};

}  // namespace

int32_t prefix_token_id(const Tokenizer& tokenizer) {
  if (tokenizer.bos_id() >= 0) return tokenizer.bos_id();
  if (tokenizer.eos_id() >= 0) return tokenizer.eos_id();
  throw Error("the tokenizer has neither a BOS nor an EOS token to start a text without context");
}

std::vector<int32_t> encode_plain(const Tokenizer& tokenizer, const std::string& text) {
  EncodeOptions options;
  options.add_special_tokens = false;
  return tokenizer.encode(text, options);
}

std::pair<std::vector<int32_t>, std::vector<int32_t>> encode_pair(const Tokenizer& tokenizer,
                                                                  const std::string& context,
                                                                  const std::string& continuation) {
  if (context.empty()) return {{prefix_token_id(tokenizer)}, encode_plain(tokenizer, continuation)};
  const std::string ctx = python_rstrip(context);
  const std::string cont = context.substr(ctx.size()) + continuation;
  std::vector<int32_t> whole = encode_plain(tokenizer, ctx + cont);
  std::vector<int32_t> ctx_enc = encode_plain(tokenizer, ctx);
  std::vector<int32_t> cont_enc;
  if (ctx_enc.size() < whole.size()) cont_enc.assign(whole.begin() + static_cast<std::ptrdiff_t>(ctx_enc.size()), whole.end());
  return {std::move(ctx_enc), std::move(cont_enc)};
}

std::vector<LoglikelihoodRequest> rolling_windows(const std::vector<int32_t>& tokens, int32_t prefix_token,
                                                  int64_t max_length) {
  if (max_length < 1) throw Error("the maximum length for rolling windows must be at least 1");
  std::vector<LoglikelihoodRequest> windows;
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return windows;
  auto slice = [&](int64_t a, int64_t b) {
    return std::vector<int32_t>(tokens.begin() + a, tokens.begin() + b);
  };
  // First window: the prefix token then up to max_length - 1 tokens predict the first max_length.
  const int64_t first = std::min(max_length, n);
  windows.push_back({{prefix_token}, slice(0, first)});
  int64_t predicted = first;
  while (predicted < n) {
    const int64_t pred_len = std::min(n - predicted, max_length);
    const int64_t end = predicted + pred_len;
    // The window's input is the max_length tokens before `end`; make_disjoint_window keeps the
    // part not predicted: one token, or more for a last window shorter than max_length.
    windows.push_back({slice(std::max<int64_t>(0, end - max_length - 1), end - pred_len), slice(end - pred_len, end)});
    predicted += pred_len;
  }
  return windows;
}

int64_t effective_max_length(const Model& model, int64_t requested) {
  if (requested > 0) return requested;
  return model.config.max_position_embeddings > 0 ? model.config.max_position_embeddings : 2048;
}

std::vector<LoglikelihoodResult> run_loglikelihood(const Model& model,
                                                   const std::vector<LoglikelihoodRequest>& requests,
                                                   const LoglikelihoodOptions& options) {
  if (options.sharing && options.sharing->size > 1) return run_loglikelihood_shared(model, requests, options);
  const int64_t L = effective_max_length(model, options.max_length);
  const int64_t V = model.config.vocab_size;
  std::vector<LoglikelihoodResult> results(requests.size());

  // Group requests by their context as lm-eval would feed it (left-truncated to fit L + 1).
  std::vector<Group> groups;
  std::map<std::vector<int32_t>, size_t> index;
  for (size_t r = 0; r < requests.size(); ++r) {
    const auto& req = requests[r];
    if (req.context.empty() || req.continuation.empty())
      throw Error("a log-likelihood request needs at least one context and one continuation token");
    const auto cont_n = static_cast<int64_t>(req.continuation.size());
    if (cont_n > L)
      throw Error("a continuation of " + std::to_string(cont_n) + " tokens is longer than the model's context of " +
                  std::to_string(L) + " tokens");
    const auto ctx_n = static_cast<int64_t>(req.context.size());
    const int64_t drop = std::max<int64_t>(0, ctx_n + cont_n - (L + 1));
    std::vector<int32_t> ctx(req.context.begin() + drop, req.context.end());
    auto [it, fresh] = index.try_emplace(ctx, groups.size());
    if (fresh) groups.push_back({std::move(ctx), {}, 0});
    Group& g = groups[it->second];
    g.members.push_back(r);
    g.capacity = std::max<int64_t>(g.capacity, static_cast<int64_t>(g.context.size()) + cont_n - 1);
  }

  Progress progress(options.progress_label.empty() ? "loglikelihood" : options.progress_label,
                    static_cast<int64_t>(requests.size()), !options.progress_label.empty());
  const int64_t batch = std::max<int64_t>(1, options.batch_size);
  // Logit rows per forward call: bounded so a large vocabulary does not need gigabytes.
  const int64_t row_budget = std::max<int64_t>(batch, (int64_t{1} << 23) / std::max<int64_t>(V, 1));

  for (size_t g0 = 0; g0 < groups.size(); g0 += static_cast<size_t>(batch)) {
    const size_t g1 = std::min(groups.size(), g0 + static_cast<size_t>(batch));
    const size_t nb = g1 - g0;
    std::vector<std::unique_ptr<KVCache>> caches;
    for (size_t g = g0; g < g1; ++g) caches.push_back(std::make_unique<KVCache>(model.config, groups[g].capacity));
    std::vector<std::vector<float>> last_ctx_row(nb);

    // Feeds each active sequence's next slice of `stream(k)` in one call after another until all
    // are consumed; on_rows(k, first_offset, rows) receives the logits of each slice.
    auto run_streams = [&](const std::vector<std::span<const int32_t>>& streams, LogitsMode mode,
                           const auto& on_rows) {
      std::vector<size_t> offset(streams.size(), 0);
      while (true) {
        std::vector<size_t> active;
        for (size_t k = 0; k < streams.size(); ++k)
          if (offset[k] < streams[k].size()) active.push_back(k);
        if (active.empty()) break;
        const auto per_seq = static_cast<size_t>(std::clamp<int64_t>(
            std::min<int64_t>(options.chunk_tokens, row_budget / static_cast<int64_t>(active.size())), 1,
            std::max<int64_t>(options.chunk_tokens, 1)));
        std::vector<SequenceInput> inputs;
        std::vector<size_t> lens;
        for (size_t k : active) {
          const size_t n = std::min(per_seq, streams[k].size() - offset[k]);
          inputs.push_back({streams[k].subspan(offset[k], n), caches[k].get()});
          lens.push_back(n);
        }
        const std::vector<float> logits = forward(model, inputs, mode);
        size_t row = 0;
        for (size_t a = 0; a < active.size(); ++a) {
          const size_t k = active[a];
          const size_t rows = mode == LogitsMode::All ? lens[a] : 1;
          on_rows(k, offset[k], lens[a], logits.data() + row * static_cast<size_t>(V));
          row += rows;
          offset[k] += lens[a];
        }
      }
    };

    // The contexts, once each; only the last position's logits are kept.
    std::vector<std::span<const int32_t>> ctx_streams;
    for (size_t g = g0; g < g1; ++g) ctx_streams.emplace_back(groups[g].context);
    run_streams(ctx_streams, LogitsMode::Last,
                [&](size_t k, size_t off, size_t n, const float* rows) {
                  if (off + n == ctx_streams[k].size()) last_ctx_row[k].assign(rows, rows + V);
                });

    // Continuations, round j taking each group's j-th request; the cache goes back to the context.
    size_t rounds = 0;
    for (size_t g = g0; g < g1; ++g) rounds = std::max(rounds, groups[g].members.size());
    for (size_t j = 0; j < rounds; ++j) {
      std::vector<std::span<const int32_t>> streams(nb);
      std::vector<size_t> req_of(nb, SIZE_MAX);
      for (size_t k = 0; k < nb; ++k) {
        const Group& grp = groups[g0 + k];
        if (j >= grp.members.size()) continue;
        const size_t r = grp.members[j];
        req_of[k] = r;
        caches[k]->truncate(static_cast<int64_t>(grp.context.size()));
        const auto& cont = requests[r].continuation;
        double lp = 0;
        bool greedy = false;
        score_row(last_ctx_row[k].data(), V, cont[0], &lp, &greedy);
        results[r] = {lp, greedy, static_cast<int64_t>(cont.size())};
        // Every continuation token but the last is fed; its logits score the token after it.
        streams[k] = std::span<const int32_t>(cont).first(cont.size() - 1);
      }
      run_streams(streams, LogitsMode::All, [&](size_t k, size_t off, size_t n, const float* rows) {
        const auto& cont = requests[req_of[k]].continuation;
        std::vector<double> lps(n);
        std::vector<char> greedy(n);
#pragma omp parallel for schedule(static) if (n > 1)
        for (size_t i = 0; i < n; ++i) {
          bool gr = false;
          score_row(rows + i * static_cast<size_t>(V), V, cont[off + i + 1], &lps[i], &gr);
          greedy[i] = gr;
        }
        LoglikelihoodResult& res = results[req_of[k]];
        for (size_t i = 0; i < n; ++i) {
          res.logprob += lps[i];
          res.is_greedy = res.is_greedy && greedy[i];
        }
      });
      int64_t done = 0;
      for (size_t k = 0; k < nb; ++k) done += req_of[k] != SIZE_MAX;
      progress.advance(done);
    }
  }
  progress.finish();
  if (options.log) {
    options.log->requests.insert(options.log->requests.end(), requests.begin(), requests.end());
    options.log->results.insert(options.log->results.end(), results.begin(), results.end());
  }
  return results;
}

std::vector<double> run_loglikelihood_rolling(const Model& model, const Tokenizer& tokenizer,
                                              const std::vector<std::string>& texts,
                                              const LoglikelihoodOptions& options,
                                              std::vector<int64_t>* tokens_out) {
  const int64_t L = effective_max_length(model, options.max_length);
  const int32_t prefix = prefix_token_id(tokenizer);
  std::vector<LoglikelihoodRequest> all;
  std::vector<size_t> owner;
  if (tokens_out) tokens_out->assign(texts.size(), 0);
  for (size_t t = 0; t < texts.size(); ++t) {
    const std::vector<int32_t> tokens = encode_plain(tokenizer, texts[t]);
    if (tokens_out) (*tokens_out)[t] = static_cast<int64_t>(tokens.size());
    for (auto& w : rolling_windows(tokens, prefix, L)) {
      all.push_back(std::move(w));
      owner.push_back(t);
    }
  }
  LoglikelihoodOptions o = options;
  o.max_length = L;
  const std::vector<LoglikelihoodResult> scored = run_loglikelihood(model, all, o);
  std::vector<double> sums(texts.size(), 0.0);
  for (size_t i = 0; i < scored.size(); ++i) sums[owner[i]] += scored[i].logprob;
  return sums;
}

}  // namespace optipfair
