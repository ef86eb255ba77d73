// The core of every evaluation task: the log-probability a model gives a continuation after a
// context, computed the way lm-evaluation-harness (HFLM) computes it, so numbers compare.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

// Tokens of one request: the continuation is scored given the context.
struct LoglikelihoodRequest {
  std::vector<int32_t> context;       // never empty (lm-eval puts the prefix token there when the text is)
  std::vector<int32_t> continuation;  // never empty
};

struct LoglikelihoodResult {
  double logprob = 0;        // sum of log p(continuation token) over the continuation
  bool is_greedy = false;    // every continuation token is the argmax at its position
  int64_t tokens = 0;        // continuation tokens scored
};

// lm-eval's token id put before a text that has no context: BOS, else EOS.
int32_t prefix_token_id(const Tokenizer& tokenizer);

// Text encoded as lm-eval's tok_encode does for causal models: no BOS/EOS added.
std::vector<int32_t> encode_plain(const Tokenizer& tokenizer, const std::string& text);

// lm-eval's _encode_pair: trailing whitespace of the context moves onto the continuation, then
// whole = encode(context + continuation), context = encode(context), continuation =
// whole[len(context):]. An empty context gives [prefix token] and encode(continuation).
std::pair<std::vector<int32_t>, std::vector<int32_t>> encode_pair(const Tokenizer& tokenizer,
                                                                  const std::string& context,
                                                                  const std::string& continuation);

// lm-eval's get_rolling_token_windows(context_len = 1) followed by make_disjoint_window: disjoint
// windows of at most max_length predicted tokens, each conditioned on the tokens of its input
// window that it does not predict (the first window on the prefix token, full windows on the one
// token before them, a shorter last window on more).
std::vector<LoglikelihoodRequest> rolling_windows(const std::vector<int32_t>& tokens, int32_t prefix_token,
                                                  int64_t max_length);

// Every request a run scored, with its result, in the order given (lm-eval's --log_samples at the
// request level): lets another implementation replay the same work and check the numbers.
struct LoglikelihoodLog {
  std::vector<LoglikelihoodRequest> requests;
  std::vector<LoglikelihoodResult> results;
};

// How one run's requests are shared among processes (the ranks of `mpirun -np N optipfair eval`):
// each scores its share and every process gets all the results back, so every rank goes on with
// the same numbers. The share follows the requests alone (never timing), so it is the same on
// every rank and every run.
struct RequestSharing {
  int rank = 0, size = 1;
  // Every rank passes its bytes and receives all ranks' bytes, in rank order.
  std::function<std::vector<std::string>(const std::string& mine)> all_gather;
};

struct LoglikelihoodOptions {
  int64_t batch_size = 8;      // sequences run together in one forward call
  int64_t max_length = 0;      // 0: the model's max_position_embeddings
  int64_t chunk_tokens = 512;  // tokens per sequence per forward call (bounds the logits buffer)
  std::string progress_label;  // empty: no progress bar
  LoglikelihoodLog* log = nullptr;  // when set, each run appends its requests (as given) and results
  const RequestSharing* sharing = nullptr;  // several processes: each scores a share (see above)
};

// The model's context length as lm-eval picks it: options.max_length when set, else
// max_position_embeddings.
int64_t effective_max_length(const Model& model, int64_t requested);

// Scores every request. Requests whose (left-truncated) contexts are equal share one pass over
// that context: its KV cache is kept and truncated back between continuations. Inputs longer
// than max_length + 1 tokens lose tokens from the left, as lm-eval's do.
std::vector<LoglikelihoodResult> run_loglikelihood(const Model& model,
                                                   const std::vector<LoglikelihoodRequest>& requests,
                                                   const LoglikelihoodOptions& options = {});

// run_loglikelihood over several processes (options.sharing): requests with the same context stay
// together, the groups are spread so that each rank scores about as many tokens, and the results
// are gathered back into request order on every rank (loglikelihood_shared.cpp).
std::vector<LoglikelihoodResult> run_loglikelihood_shared(const Model& model,
                                                          const std::vector<LoglikelihoodRequest>& requests,
                                                          const LoglikelihoodOptions& options);

// Sum of the log-likelihoods of a whole text's rolling windows (lm-eval's loglikelihood_rolling),
// one value per text; tokens_out (optional) receives each text's token count.
std::vector<double> run_loglikelihood_rolling(const Model& model, const Tokenizer& tokenizer,
                                              const std::vector<std::string>& texts,
                                              const LoglikelihoodOptions& options,
                                              std::vector<int64_t>* tokens_out = nullptr);

}  // namespace optipfair
