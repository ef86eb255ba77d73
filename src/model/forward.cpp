// The decoder forward pass, top to bottom: embed (Gemma: times sqrt(hidden)), then per layer
//   rmsnorm -> q,k,v -> (q/k norm) -> rope -> cache -> causal attention -> o_proj -> (norm) -> residual
//   rmsnorm -> gate, up -> act(gate) * up -> down -> (norm) -> residual
// then the final norm, the LM head and (Gemma 2) the logits' soft-cap. The bracketed norms are
// Gemma 2/3's post-attention and post-MLP norms; Gemma's norms scale by (1 + weight). Every row of
// the batch goes through each matrix product together; attention is per sequence.
#include "model/forward.h"

#include <atomic>
#include <cmath>
#include <tuple>

#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "model/glu.h"
#include "model/rope.h"
#include "util/error.h"

namespace optipfair {

namespace {

std::atomic<uint64_t> g_forward_calls{0};
std::atomic<uint64_t> g_forward_sequences{0};

std::vector<float> widen(const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  if (t.present()) dequantize_row(out.data(), WeightMatrix{t.data, t.dtype, 1, t.numel(), t.nbytes()}, 0);
  return out;
}

// A norm's weights as the kernel multiplies by them: Gemma stores offsets from 1.
std::vector<float> norm_weights(const Tensor& t, float offset) {
  std::vector<float> w = widen(t);
  if (offset != 0.0f)
    for (float& x : w) x += offset;
  return w;
}

// Gemma's embedding multiplier sqrt(hidden) is a tensor of the weights' type in transformers, so
// a 16-bit model multiplies by it rounded to that type (34 rather than 33.94 for 1152 wide).
float embedding_multiplier(const ModelConfig& c, DType stored) {
  const float m = c.embedding_scale();
  if (stored == DType::BF16) return bf16_to_f32(f32_to_bf16(m));
  if (stored == DType::F16) return f16_to_f32(f32_to_f16(m));
  return m;
}

void add_bias(float* y, const Tensor& bias, int64_t rows, int64_t cols) {
  if (!bias.present()) return;
  std::vector<float> b = widen(bias);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] += b[static_cast<size_t>(c)];
}

// Row-wise work (norms, rotations, SiLU, residual adds) is split over threads from this many rows
// on; done on one thread it left the other idle for a tenth of a short prompt's forward pass.
constexpr int64_t kParallelRows = 16;

// x += y over rows x cols.
void add_rows(float* x, const float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows >= kParallelRows)
  for (int64_t r = 0; r < rows; ++r)
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] += y[r * cols + c];
}

// Where each sequence's new rows sit in the batch matrix.
struct SeqSpan {
  int64_t first_row;
  int64_t rows;
  int64_t start_pos;  // position of its first new token
};

}  // namespace

KVCache::KVCache(const ModelConfig& config, int64_t capacity)
    : capacity_(capacity), kv_dim_(config.kv_dim()) {
  k_.resize(static_cast<size_t>(config.num_hidden_layers));
  v_.resize(static_cast<size_t>(config.num_hidden_layers));
  for (auto& k : k_) k.resize(static_cast<size_t>(capacity * kv_dim_));
  for (auto& v : v_) v.resize(static_cast<size_t>(capacity * kv_dim_));
}

void KVCache::truncate(int64_t n) {
  if (n < 0 || n > length_) throw Error("KV cache truncation past its length");
  length_ = n;
}

uint64_t forward_call_count() { return g_forward_calls.load(); }
uint64_t forward_sequence_count() { return g_forward_sequences.load(); }

std::vector<float> forward(const Model& model, std::span<const SequenceInput> batch, LogitsMode mode,
                           ActivationCapture* capture, Precision precision) {
  g_forward_calls.fetch_add(1);
  g_forward_sequences.fetch_add(batch.size());
  const ModelConfig& c = model.config;
  const int64_t H = c.hidden_size, V = c.vocab_size, hd = c.head_dim;
  const int64_t n_heads = c.num_attention_heads, n_kv = c.num_key_value_heads;
  const int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const int64_t group = n_heads / n_kv;  // query heads per key/value head
  const float eps = static_cast<float>(c.rms_norm_eps);

  std::vector<SeqSpan> spans;
  int64_t R = 0;  // rows in the batch
  for (const SequenceInput& s : batch) {
    if (!s.cache) throw Error("forward: a sequence has no KV cache");
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    if (s.cache->length() + n > s.cache->capacity())
      throw Error("sequence of " + std::to_string(s.cache->length() + n) +
                  " tokens does not fit its KV cache of " + std::to_string(s.cache->capacity()));
    spans.push_back({R, n, s.cache->length()});
    R += n;
  }
  if (R == 0) return {};

  // x: [R x H] residual stream, from the embedding table.
  std::vector<float> x(static_cast<size_t>(R * H));
  const WeightMatrix emb = model.tok_embeddings.matrix();
  for (size_t s = 0; s < batch.size(); ++s) {
    for (int64_t i = 0; i < spans[s].rows; ++i) {
      const int32_t tok = batch[s].tokens[static_cast<size_t>(i)];
      if (tok < 0 || tok >= V)
        throw Error("token id " + std::to_string(tok) + " is outside the vocabulary of " + std::to_string(V));
      dequantize_row(&x[static_cast<size_t>((spans[s].first_row + i) * H)], emb, tok);
    }
  }
  if (c.gemma()) {
    const float m = embedding_multiplier(c, model.tok_embeddings.dtype);
    for (float& e : x) e *= m;
  }

  // Each row's rotation, shared by every head of every layer (Gemma 3's sliding layers have their
  // own frequencies, hence a second table; LongRope picks its factors by the furthest position).
  std::vector<size_t> row_seq(static_cast<size_t>(R));
  std::vector<int64_t> row_pos(static_cast<size_t>(R));
  int64_t positions = 0;
  for (size_t s = 0; s < spans.size(); ++s)
    for (int64_t i = 0; i < spans[s].rows; ++i) {
      const auto r = static_cast<size_t>(spans[s].first_row + i);
      row_seq[r] = s;
      row_pos[r] = spans[s].start_pos + i;
      positions = std::max(positions, row_pos[r] + 1);
    }
  const std::vector<float> inv_freq = rope_inv_freq_for(c, positions);
  const std::vector<float> inv_freq_local = rope_inv_freq_sliding(c);
  const bool local_rope = c.rope_local_theta > 0;
  const float rope_scale = rope_attention_factor(c);
  const int64_t rot = c.rope_dim(), half = rot / 2;
  std::vector<float> rope_cos(static_cast<size_t>(R * half)), rope_sin(static_cast<size_t>(R * half));
  std::vector<float> local_cos(local_rope ? rope_cos.size() : 0), local_sin(local_cos.size());
#pragma omp parallel for schedule(static) if (R >= kParallelRows)
  for (int64_t r = 0; r < R; ++r) {
    const auto at = static_cast<size_t>(r * half);
    rope_angles(row_pos[static_cast<size_t>(r)], inv_freq, &rope_cos[at], &rope_sin[at], rope_scale);
    if (local_rope) rope_angles(row_pos[static_cast<size_t>(r)], inv_freq_local, &local_cos[at], &local_sin[at]);
  }
  const float attn_scale = c.attention_scale();
  const auto attn_softcap = static_cast<float>(c.attn_logit_softcapping);
  const float norm_offset = c.norm_offset();
  int64_t I_max = 0;
  for (const auto& l : model.layers) I_max = std::max(I_max, l.intermediate_size());

  std::vector<float> xn(static_cast<size_t>(R * H));          // normed input   [R x H]
  std::vector<float> q(static_cast<size_t>(R * q_dim));       // queries        [R x q_dim]
  std::vector<float> k(static_cast<size_t>(R * kv_dim));      // keys           [R x kv_dim]
  std::vector<float> v(static_cast<size_t>(R * kv_dim));      // values         [R x kv_dim]
  std::vector<float> att(static_cast<size_t>(R * q_dim));     // attention out  [R x q_dim]
  std::vector<float> proj(static_cast<size_t>(R * H));        // o_proj / down  [R x H]
  std::vector<float> gate(static_cast<size_t>(R * I_max));    // gate           [R x I]
  std::vector<float> up(static_cast<size_t>(R * I_max));      // up             [R x I]

  auto record = [&](int layer, Component comp, const float* data, int64_t cols) {
    if (!capture || !capture->wants(layer, comp)) return;
    for (size_t s = 0; s < spans.size(); ++s)
      capture->record(s, layer, comp, data + spans[s].first_row * cols, spans[s].rows, cols, cols);
  };

  // Gemma 2/3: the attention's and the MLP's outputs are normalised before the residual add.
  auto post_norm = [&](float* y, const std::vector<float>& weights) {
#pragma omp parallel for schedule(static) if (R >= kParallelRows)
    for (int64_t r = 0; r < R; ++r) rmsnorm(&y[r * H], &y[r * H], weights.data(), H, eps);
  };

  constexpr int64_t kAttentionBlock = 16;  // query positions per attention task
  std::vector<std::tuple<size_t, int64_t, int64_t>> attention_tasks;  // (sequence, block, kv head)
  for (size_t s = 0; s < spans.size(); ++s)
    for (int64_t blk = 0; blk * kAttentionBlock < spans[s].rows; ++blk)
      for (int64_t g = 0; g < n_kv; ++g) attention_tasks.emplace_back(s, blk, g);

  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const LayerWeights& w = model.layers[static_cast<size_t>(l)];
    const int layer = static_cast<int>(l);
    const int64_t I = w.intermediate_size();

    record(layer, Component::LayerInput, x.data(), H);

    // ---- attention block ----
    const std::vector<float> attn_norm = norm_weights(w.attn_norm, norm_offset);
#pragma omp parallel for schedule(static) if (R >= kParallelRows)
    for (int64_t r = 0; r < R; ++r) rmsnorm(&xn[r * H], &x[r * H], attn_norm.data(), H, eps);
    record(layer, Component::InputNorm, xn.data(), H);

    const MatmulOutput qkv[] = {{q.data(), w.wq.matrix()}, {k.data(), w.wk.matrix()}, {v.data(), w.wv.matrix()}};
    matmul_group(qkv, xn.data(), R, precision);
    add_bias(q.data(), w.bq, R, q_dim);
    add_bias(k.data(), w.bk, R, kv_dim);
    add_bias(v.data(), w.bv, R, kv_dim);
    if (c.qk_norm) {  // Qwen3, Gemma 3: RMSNorm over each head before the rotation
      const std::vector<float> qn = norm_weights(w.q_norm, norm_offset), kn = norm_weights(w.k_norm, norm_offset);
      for (int64_t i = 0; i < R * n_heads; ++i) rmsnorm(&q[i * hd], &q[i * hd], qn.data(), hd, eps);
      for (int64_t i = 0; i < R * n_kv; ++i) rmsnorm(&k[i * hd], &k[i * hd], kn.data(), hd, eps);
    }

    // Rotate, then append this call's keys and values to each sequence's cache.
    const int64_t window = c.window_of(l);
    const bool use_local = local_rope && window > 0;
    const std::vector<float>& cos_table = use_local ? local_cos : rope_cos;
    const std::vector<float>& sin_table = use_local ? local_sin : rope_sin;
#pragma omp parallel for schedule(static) if (R >= kParallelRows)
    for (int64_t r = 0; r < R; ++r) {
      const auto ri = static_cast<size_t>(r);
      const float* cs = &cos_table[ri * static_cast<size_t>(half)];
      const float* sn = &sin_table[ri * static_cast<size_t>(half)];
      rope_rotate(&q[r * q_dim], n_heads, hd, rot, cs, sn);
      rope_rotate(&k[r * kv_dim], n_kv, hd, rot, cs, sn);
      KVCache& cache = *batch[row_seq[ri]].cache;
      std::copy_n(&k[r * kv_dim], kv_dim, cache.k(layer, row_pos[ri]));
      std::copy_n(&v[r * kv_dim], kv_dim, cache.v(layer, row_pos[ri]));
    }

    // Causal attention: row at position p sees positions [max(0, p - window + 1), p]. The query
    // heads of one KV head over a block of positions go together, so they share each key tile;
    // every (sequence, block, KV head) of the batch is one task of a single parallel loop.
#pragma omp parallel
    {
      AttentionScratch scratch;
      std::vector<AttentionRow> rows;
#pragma omp for schedule(dynamic, 1)
      for (size_t task = 0; task < attention_tasks.size(); ++task) {
        const auto [s, blk, g] = attention_tasks[task];
        const SeqSpan sp = spans[s];
        KVCache& cache = *batch[s].cache;
        rows.clear();
        for (int64_t i = blk * kAttentionBlock; i < std::min(sp.rows, (blk + 1) * kAttentionBlock); ++i) {
          const int64_t r = sp.first_row + i, pos = sp.start_pos + i;
          const int64_t first = window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
          for (int64_t h = g * group; h < (g + 1) * group; ++h)
            rows.push_back({&q[r * q_dim + h * hd], &att[r * q_dim + h * hd], first, pos - first + 1});
        }
        attention_rows(rows, cache.k(layer, 0) + g * hd, cache.v(layer, 0) + g * hd, kv_dim, hd, attn_scale, scratch,
                       attn_softcap);
      }
    }

    matmul(proj.data(), att.data(), R, w.wo.matrix(), precision);
    record(layer, Component::AttentionOutput, proj.data(), H);
    if (c.post_norms()) post_norm(proj.data(), norm_weights(w.attn_post_norm, norm_offset));
    add_rows(x.data(), proj.data(), R, H);

    // ---- MLP block: down(act(gate(x)) * up(x)) ----
    const std::vector<float> ffn_norm = norm_weights(w.ffn_norm, norm_offset);
#pragma omp parallel for schedule(static) if (R >= kParallelRows)
    for (int64_t r = 0; r < R; ++r) rmsnorm(&xn[r * H], &x[r * H], ffn_norm.data(), H, eps);
    const MatmulOutput gate_up[] = {{gate.data(), w.w_gate.matrix()}, {up.data(), w.w_up.matrix()}};
    matmul_group(gate_up, xn.data(), R, precision);
    record(layer, Component::GateProj, gate.data(), I);
    record(layer, Component::UpProj, up.data(), I);
#pragma omp parallel for schedule(static) if (R >= kParallelRows)
    for (int64_t r = 0; r < R; ++r) glu_activate(c.hidden_act, &gate[r * I], &up[r * I], I);
    matmul(proj.data(), gate.data(), R, w.w_down.matrix(), precision);
    record(layer, Component::DownProj, proj.data(), H);
    record(layer, Component::MlpOutput, proj.data(), H);
    if (c.post_norms()) post_norm(proj.data(), norm_weights(w.ffn_post_norm, norm_offset));
    add_rows(x.data(), proj.data(), R, H);
    record(layer, Component::LayerOutput, x.data(), H);
  }

  for (size_t s = 0; s < batch.size(); ++s) batch[s].cache->advance(spans[s].rows);
  if (mode == LogitsMode::None) return {};

  // Final norm and LM head, only on the rows whose logits are wanted.
  std::vector<int64_t> rows;
  if (mode == LogitsMode::All) {
    for (int64_t r = 0; r < R; ++r) rows.push_back(r);
  } else {
    for (const SeqSpan& sp : spans) rows.push_back(sp.first_row + sp.rows - 1);
  }
  const std::vector<float> final_norm = norm_weights(model.final_norm, norm_offset);
  std::vector<float> h(rows.size() * static_cast<size_t>(H));
  for (size_t i = 0; i < rows.size(); ++i) rmsnorm(&h[i * H], &x[rows[i] * H], final_norm.data(), H, eps);
  std::vector<float> logits(rows.size() * static_cast<size_t>(V));
  matmul(logits.data(), h.data(), static_cast<int64_t>(rows.size()), model.lm_head.matrix(), precision);
  if (c.final_logit_softcapping > 0)
    softcap_inplace(logits.data(), static_cast<int64_t>(logits.size()), static_cast<float>(c.final_logit_softcapping));
  return logits;
}

std::vector<float> forward_tokens(const Model& model, std::span<const int32_t> tokens,
                                  ActivationCapture* capture, Precision precision) {
  KVCache cache(model.config, static_cast<int64_t>(tokens.size()));
  SequenceInput in{tokens, &cache};
  return forward(model, std::span<const SequenceInput>(&in, 1), LogitsMode::All, capture, precision);
}

}  // namespace optipfair
