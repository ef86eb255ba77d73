#include "bias/bias_analysis.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "bias/python_metrics.h"
#include "kernels/matmul.h"
#include "model/forward.h"
#include "util/error.h"
#include "util/progress.h"

namespace optipfair {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

std::vector<int32_t> encode_checked(const Tokenizer& tok, const std::string& text, size_t pair, int which,
                                    int64_t context) {
  const std::string where = "prompt " + std::to_string(which) + " of pair " + std::to_string(pair + 1);
  if (blank(text)) throw Error(where + " is empty; every prompt needs some text");
  std::vector<int32_t> ids = tok.encode(text);
  if (ids.empty()) throw Error(where + " produced no tokens");
  if (static_cast<int64_t>(ids.size()) > context)
    throw Error(where + " has " + std::to_string(ids.size()) + " tokens, more than the model's context of " +
                std::to_string(context));
  return ids;
}

std::vector<std::string> token_labels(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int32_t id : ids) out.push_back(escape_visible(tok.decode(std::span<const int32_t>(&id, 1))));
  return out;
}

// Rows of `a` for the aligned groups of one side: the activation itself when the alignment is
// positional, else mean-pooled rows.
const float* aligned_rows(const TokenAlignment& al, bool first, const Activation& a, std::vector<float>& buffer) {
  if (al.method == AlignmentMethod::Positional) return a.data.data();
  pool_rows(al, first, a.data.data(), a.cols, buffer);
  return buffer.data();
}

void key_difference(const TokenAlignment& al, const Activation& a1, const Activation& a2, KeyDifference& d) {
  std::vector<float> b1, b2;
  const float* x1 = aligned_rows(al, true, a1, b1);
  const float* x2 = aligned_rows(al, false, a2, b2);
  const int64_t R = static_cast<int64_t>(al.size()), W = a1.cols;
  d.per_token.assign(static_cast<size_t>(R), 0.0f);
  std::vector<double> dir(static_cast<size_t>(W), 0.0);
  double total = 0;
  for (int64_t r = 0; r < R; ++r) {
    double row = 0;
    const float* p1 = x1 + r * W;
    const float* p2 = x2 + r * W;
    for (int64_t w = 0; w < W; ++w) {
      const double diff = static_cast<double>(p1[w]) - static_cast<double>(p2[w]);
      row += std::fabs(diff);
      dir[static_cast<size_t>(w)] += diff;
    }
    total += row;
    d.per_token[static_cast<size_t>(r)] = static_cast<float>(row / static_cast<double>(W));
  }
  d.mean_abs = static_cast<float>(total / static_cast<double>(R * W));
  d.direction.resize(static_cast<size_t>(W));
  double signed_sum = 0;
  for (int64_t w = 0; w < W; ++w) {
    const double v = dir[static_cast<size_t>(w)] / static_cast<double>(R);
    d.direction[static_cast<size_t>(w)] = static_cast<float>(v);
    signed_sum += v;
  }
  d.signed_mean = signed_sum / static_cast<double>(W);
}

// Adds mean_t |x1[t,i] - x2[t,i]| to score[i].
void add_neuron_diff(const TokenAlignment& al, const Activation& a1, const Activation& a2, std::vector<double>& score) {
  std::vector<float> b1, b2;
  const float* x1 = aligned_rows(al, true, a1, b1);
  const float* x2 = aligned_rows(al, false, a2, b2);
  const int64_t R = static_cast<int64_t>(al.size()), W = a1.cols;
  std::vector<double> acc(static_cast<size_t>(W), 0.0);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t w = 0; w < W; ++w) acc[static_cast<size_t>(w)] += std::fabs(static_cast<double>(x1[r * W + w]) - x2[r * W + w]);
  for (int64_t w = 0; w < W; ++w) score[static_cast<size_t>(w)] += acc[static_cast<size_t>(w)] / static_cast<double>(R);
}

bool contains(const std::vector<Component>& v, Component c) { return std::find(v.begin(), v.end(), c) != v.end(); }

}  // namespace

BiasAnalysis analyze_bias(const Model& model, const Tokenizer& tokenizer, const std::vector<PromptPair>& pairs,
                          const BiasOptions& options) {
  if (pairs.empty()) throw Error("no prompt pairs to analyse");
  if (options.components.empty()) throw Error("no components selected for the bias analysis");
  const int64_t n_layers = model.config.num_hidden_layers;
  BiasAnalysis out;
  out.components = options.components;
  out.num_layers = n_layers;
  out.plot_layers = parse_layer_selection(options.plot_layers, n_layers);
  out.precision = options.precision;

  auto t0 = std::chrono::steady_clock::now();
  out.pairs.resize(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    PairAnalysis& pa = out.pairs[p];
    pa.pair = pairs[p];
    pa.ids1 = encode_checked(tokenizer, pairs[p].prompt1, p, 1, model.config.max_position_embeddings);
    pa.ids2 = encode_checked(tokenizer, pairs[p].prompt2, p, 2, model.config.max_position_embeddings);
    pa.tokens1 = token_labels(tokenizer, pa.ids1);
    pa.tokens2 = token_labels(tokenizer, pa.ids2);
    pa.alignment = align_tokens(pa.ids1, pa.ids2);
    pa.equal_length = pa.ids1.size() == pa.ids2.size();
    pa.identical = pa.ids1 == pa.ids2;
    if (pa.identical)
      pa.note = "the two prompts tokenise identically, so every activation difference is exactly 0";
    else if (!pa.equal_length)
      pa.note = "the prompts tokenise to different lengths, so the Python library reports no metrics for this pair "
                "(\"metrics\" is {}); \"aligned_metrics\" compares them after alignment: " + pa.alignment.describe();
  }
  out.seconds_tokenize = seconds_since(t0);

  // Gate and up projections are always captured: the neuron bias scores need them.
  std::vector<Component> capture_components;
  for (Component c : kAllComponents)
    if (contains(options.components, c) || c == Component::GateProj || c == Component::UpProj)
      capture_components.push_back(c);
  std::vector<int> all_layers = parse_layer_selection("all", n_layers);

  std::vector<std::vector<double>> neuron(static_cast<size_t>(n_layers));
  for (int64_t l = 0; l < n_layers; ++l)
    neuron[static_cast<size_t>(l)].assign(static_cast<size_t>(model.layers[static_cast<size_t>(l)].intermediate_size()), 0.0);

  const uint64_t calls_before = forward_call_count();
  Progress progress("bias", static_cast<int64_t>(pairs.size()), options.progress, options.observer);
  for (size_t begin = 0; begin < pairs.size();) {
    // A chunk of pairs whose prompts together stay within max_batch_tokens rows (at least one pair).
    size_t end = begin;
    int64_t rows = 0;
    while (end < pairs.size()) {
      const int64_t r = static_cast<int64_t>(out.pairs[end].ids1.size() + out.pairs[end].ids2.size());
      if (end > begin && rows + r > options.max_batch_tokens) break;
      rows += r;
      ++end;
    }
    ActivationCapture capture(all_layers, capture_components);
    std::vector<KVCache> caches;
    caches.reserve(2 * (end - begin));
    std::vector<SequenceInput> batch;
    for (size_t p = begin; p < end; ++p)
      for (const auto* ids : {&out.pairs[p].ids1, &out.pairs[p].ids2}) {
        caches.emplace_back(model.config, static_cast<int64_t>(ids->size()));
        batch.push_back({std::span<const int32_t>(*ids), nullptr});
      }
    for (size_t s = 0; s < batch.size(); ++s) batch[s].cache = &caches[s];
    auto tf = std::chrono::steady_clock::now();
    forward(model, batch, LogitsMode::None, &capture, options.precision);
    out.seconds_forward += seconds_since(tf);
    out.sequences_processed += batch.size();

    auto tm = std::chrono::steady_clock::now();
    // One parallel region per chunk (not per pair): pairs are independent; neuron scores are summed
    // per layer afterwards so that no two threads write the same layer.
    const int64_t np = static_cast<int64_t>(end - begin);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t q = 0; q < np; ++q) {
      const size_t p = begin + static_cast<size_t>(q);
      PairAnalysis& pa = out.pairs[p];
      const size_t s1 = 2 * static_cast<size_t>(q), s2 = s1 + 1;
      for (int l = 0; l < n_layers; ++l)
        for (Component c : kAllComponents)
          if (contains(options.components, c)) pa.differences.push_back({activation_key(c, l), c, l, 0, {}, 0, {}});
      for (KeyDifference& d : pa.differences)
        key_difference(pa.alignment, capture.get(s1, d.layer, d.component), capture.get(s2, d.layer, d.component), d);
      std::vector<std::pair<std::string, float>> per_key;
      for (const KeyDifference& d : pa.differences) per_key.emplace_back(d.key, d.mean_abs);
      pa.aligned_metrics = python_bias_metrics(per_key);
      pa.python_metrics = pa.equal_length ? pa.aligned_metrics : nlohmann::ordered_json::object();
      pa.mean_difference = pa.aligned_metrics["overall_metrics"]["mean_difference"].get<double>();
      if (options.keep_plot_data && (options.plot_pairs < 0 || static_cast<int64_t>(p) < options.plot_pairs))
        for (int l : out.plot_layers)
          for (Component c : options.plot_components)
            if (contains(options.components, c))
              pa.kept[activation_key(c, l)] = {capture.get(s1, l, c), capture.get(s2, l, c)};
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t l = 0; l < n_layers; ++l) {
      const int layer = static_cast<int>(l);
      auto& score = neuron[static_cast<size_t>(l)];
      for (int64_t q = 0; q < np; ++q) {
        const PairAnalysis& pa = out.pairs[begin + static_cast<size_t>(q)];
        const size_t s1 = 2 * static_cast<size_t>(q), s2 = s1 + 1;
        add_neuron_diff(pa.alignment, capture.get(s1, layer, Component::GateProj), capture.get(s2, layer, Component::GateProj), score);
        add_neuron_diff(pa.alignment, capture.get(s1, layer, Component::UpProj), capture.get(s2, layer, Component::UpProj), score);
      }
    }
    progress.advance(np);
    out.seconds_metrics += seconds_since(tm);
    begin = end;
  }
  progress.finish();
  out.forward_calls = forward_call_count() - calls_before;

  out.neuron_scores.num_pairs = static_cast<int64_t>(pairs.size());
  for (auto& layer : neuron) {
    std::vector<float> v(layer.size());
    for (size_t i = 0; i < layer.size(); ++i) v[i] = static_cast<float>(layer[i] / static_cast<double>(pairs.size()));
    out.neuron_scores.per_layer.push_back(std::move(v));
  }
  return out;
}

BiasOptions bias_metrics_options(Precision precision) {
  BiasOptions o;
  o.keep_plot_data = false;
  o.progress = false;
  o.precision = precision;
  return o;
}

NeuronBiasScores neuron_bias_scores(const Model& model, const Tokenizer& tokenizer, const std::vector<PromptPair>& pairs,
                                    Precision precision) {
  BiasOptions o;
  o.components = {Component::GateProj, Component::UpProj};
  o.keep_plot_data = false;
  o.precision = precision;
  o.progress = false;
  return analyze_bias(model, tokenizer, pairs, o).neuron_scores;
}

}  // namespace optipfair
