// GGUF <-> Model: llama.cpp's metadata keys and tensor names for the llama, deci, mistral, qwen2,
// qwen3, gemma, gemma2, gemma3 and phi3 architectures (the last four's own keys in gguf_gemma.cpp
// and gguf_phi3.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numbers>

#include "io/gguf_file.h"
#include "io/gguf_gemma.h"
#include "io/gguf_phi3.h"
#include "io/gguf_writer.h"
#include "io/model_formats.h"
#include "io/qk_permute.h"
#include "kernels/quants.h"
#include "model/rope.h"
#include "util/error.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

// llama.cpp's llama-style archs store Q/K rows interleaved for its adjacent-pair RoPE; the qwen
// archs use NEOX (rotate-half) RoPE and keep the Hugging Face order.
bool arch_is_permuted(const std::string& arch) { return arch == "llama" || arch == "deci" || arch == "mistral"; }

const std::vector<std::string>& gguf_archs() {
  static const std::vector<std::string> archs = {"llama", "deci", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3",
                                                 "phi3"};
  return archs;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A per-layer value that llama.cpp accepts as a scalar or as an array with one entry per layer.
std::vector<int64_t> per_layer_ints(const GgufFile& g, const std::string& key, int64_t n_layers,
                                    const fs::path& file) {
  auto it = g.metadata().find(key);
  if (it == g.metadata().end()) throw Error(file.string() + ": GGUF metadata key '" + key + "' is missing");
  const GgufValue& v = it->second;
  if (v.kind != GgufValue::Kind::Array) return std::vector<int64_t>(static_cast<size_t>(n_layers), g.get_int(key));
  std::vector<int64_t> out = g.get_int_array(key);
  if (static_cast<int64_t>(out.size()) != n_layers)
    throw Error("GGUF key '" + key + "' has " + std::to_string(out.size()) + " entries for " +
                std::to_string(n_layers) + " layers");
  return out;
}

int64_t uniform_or_throw(const std::vector<int64_t>& v, const std::string& what) {
  for (int64_t x : v)
    if (x != v.front())
      throw Error("GGUF model has a different " + what + " per layer, which optipfair does not support");
  return v.front();
}

// llama.cpp stores Llama 3.1 "llama3" rope scaling only as the precomputed per-frequency divisors in
// rope_freqs.weight; these are the factors that scaling implies (as its converter computes them).
std::vector<float> llama3_rope_factors(const ModelConfig& c) {
  const RopeScaling& r = c.rope_scaling;
  const double low_wavelen = r.original_max_position_embeddings / r.low_freq_factor;
  const double high_wavelen = r.original_max_position_embeddings / r.high_freq_factor;
  std::vector<float> out;
  for (int64_t j = 0; j < c.head_dim / 2; ++j) {
    const double freq = 1.0 / std::pow(c.rope_theta, 2.0 * static_cast<double>(j) / static_cast<double>(c.head_dim));
    const double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(static_cast<float>(r.factor));
    } else {
      const double smooth = (r.original_max_position_embeddings / wavelen - r.low_freq_factor) /
                            (r.high_freq_factor - r.low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return out;
}

void read_rope_scaling(const GgufFile& g, const std::string& arch, ModelConfig& c) {
  // Our own keys carry the exact Hugging Face parameters when we wrote the file.
  if (g.has("optipfair.rope_scaling.type")) {
    RopeScaling& r = c.rope_scaling;
    r.type = rope_scaling_type_parse(g.get_string("optipfair.rope_scaling.type"));
    r.factor = g.get_float("optipfair.rope_scaling.factor");
    r.low_freq_factor = g.get_float("optipfair.rope_scaling.low_freq_factor");
    r.high_freq_factor = g.get_float("optipfair.rope_scaling.high_freq_factor");
    r.original_max_position_embeddings = g.get_int("optipfair.rope_scaling.original_max_position_embeddings");
    return;
  }
  const std::string type_key = arch + ".rope.scaling.type";
  std::string type = g.has(type_key) ? g.get_string(type_key) : "none";
  double factor = 1.0;
  if (g.has(arch + ".rope.scaling.factor")) factor = g.get_float(arch + ".rope.scaling.factor");
  if (!g.has(type_key) && g.has(arch + ".rope.scale_linear")) {  // older files
    type = "linear";
    factor = g.get_float(arch + ".rope.scale_linear");
  }
  if (type == "linear" && factor != 1.0) {
    c.rope_scaling.type = RopeScalingType::Linear;
    c.rope_scaling.factor = factor;
  } else if (type != "none" && type != "linear") {
    throw Error("GGUF rope scaling type '" + type + "' is not supported (supported: linear, llama3)");
  }
  const GgufTensorInfo* freqs = g.find_tensor("rope_freqs.weight");
  if (!freqs) return;
  // Llama 3.1-style scaling: recover its parameters assuming Meta's published defaults for the
  // band limits, and refuse the file if the stored divisors do not match them.
  if (freqs->dtype != DType::F32 || freqs->shape.size() != 1)
    throw Error("GGUF tensor rope_freqs.weight must be a float32 vector");
  // Checked first: the expected factors are computed per head_dim / 2, a number from the file.
  if (c.head_dim <= 0 || freqs->shape[0] != c.head_dim / 2)
    throw Error("GGUF tensor rope_freqs.weight has " + std::to_string(freqs->shape[0]) + " entries but heads of " +
                std::to_string(c.head_dim) + " need " + std::to_string(std::max<int64_t>(c.head_dim / 2, 0)));
  std::vector<float> stored(static_cast<size_t>(freqs->shape[0]));
  std::memcpy(stored.data(), freqs->data, stored.size() * sizeof(float));
  RopeScaling& r = c.rope_scaling;
  r.type = RopeScalingType::Llama3;
  r.factor = *std::max_element(stored.begin(), stored.end());
  r.low_freq_factor = 1.0;
  r.high_freq_factor = 4.0;
  r.original_max_position_embeddings = 8192;
  std::vector<float> expect = llama3_rope_factors(c);
  bool same = expect.size() == stored.size();
  for (size_t k = 0; same && k < stored.size(); ++k) same = std::fabs(expect[k] - stored[k]) <= 1e-4f * expect[k];
  if (!same)
    throw Error("GGUF rope_freqs.weight does not match Llama 3 rope scaling with the standard band limits");
}

class GgufModelReader {
 public:
  GgufModelReader(const GgufFile& g, const fs::path& file) : g_(g), file_(file.string()) {}

  Tensor get(const std::string& name, bool required = true) const {
    const GgufTensorInfo* t = g_.find_tensor(name);
    Tensor out;
    if (!t) {
      if (required) throw Error(file_ + " has no tensor '" + name + "'");
      return out;
    }
    out.name = name;
    out.dtype = t->dtype;
    out.shape = t->shape;
    out.data = t->data;
    return out;
  }

 private:
  const GgufFile& g_;
  std::string file_;
};

}  // namespace

Model load_gguf_model(const fs::path& file) {
  const GgufFile g = GgufFile::open(file);
  const std::string arch = g.get_string("general.architecture");
  const auto& archs = gguf_archs();
  if (std::find(archs.begin(), archs.end(), arch) == archs.end())
    throw Error("GGUF architecture '" + arch + "' is not supported (supported: " + join(archs) + ")");
  auto key = [&](const std::string& k) { return arch + "." + k; };

  ModelConfig c;
  const bool gemma = gguf_arch_is_gemma(arch);
  c.model_type = arch == "deci" ? ModelType::Llama : gemma ? ModelType::Gemma : model_type_parse(arch);
  c.hidden_size = g.get_int(key("embedding_length"));
  c.num_hidden_layers = g.get_int(key("block_count"));
  if (c.num_hidden_layers <= 0 || c.num_hidden_layers > kMaxLayers)
    throw Error(file.string() + ": block_count " + std::to_string(c.num_hidden_layers) + " is not valid");
  c.num_attention_heads = uniform_or_throw(per_layer_ints(g, key("attention.head_count"), c.num_hidden_layers, file),
                                           "attention head count");
  c.num_key_value_heads =
      g.has(key("attention.head_count_kv"))
          ? uniform_or_throw(per_layer_ints(g, key("attention.head_count_kv"), c.num_hidden_layers, file),
                             "key/value head count")
          : c.num_attention_heads;
  if (c.num_attention_heads <= 0 || c.num_key_value_heads <= 0)
    throw Error(file.string() + " has a layer without attention heads, which optipfair does not support");
  c.head_dim = g.has(key("attention.key_length")) ? g.get_int(key("attention.key_length"))
                                                  : c.hidden_size / c.num_attention_heads;
  if (g.has(key("attention.value_length")) && g.get_int(key("attention.value_length")) != c.head_dim)
    throw Error(file.string() + " has different key and value head sizes, which optipfair does not support");
  // Phi-4-mini rotates the leading part of each head (NEOX order, as transformers' partial rotary).
  if (arch == "phi3" && g.has(key("rope.dimension_count")) && g.get_int(key("rope.dimension_count")) < c.head_dim)
    c.rotary_dim = g.get_int(key("rope.dimension_count"));
  if (g.has(key("rope.dimension_count")) && g.get_int(key("rope.dimension_count")) != c.rope_dim())
    throw Error(file.string() + " rotates only part of each head (rope.dimension_count " +
                std::to_string(g.get_int(key("rope.dimension_count"))) + " of " + std::to_string(c.head_dim) +
                "), which optipfair does not support");
  c.intermediate_sizes = per_layer_ints(g, key("feed_forward_length"), c.num_hidden_layers, file);
  c.intermediate_size = *std::max_element(c.intermediate_sizes.begin(), c.intermediate_sizes.end());
  // Layers zero-padded to one width (see save_gguf_model): their true widths, each at most that.
  const bool padded = g.has("optipfair.feed_forward_lengths");
  if (padded) {
    std::vector<int64_t> widths = g.get_int_array("optipfair.feed_forward_lengths");
    if (static_cast<int64_t>(widths.size()) != c.num_hidden_layers)
      throw Error(file.string() + ": optipfair.feed_forward_lengths has " + std::to_string(widths.size()) +
                  " entries for " + std::to_string(c.num_hidden_layers) + " layers");
    for (int64_t x : widths)
      if (x <= 0 || x > c.intermediate_size)
        throw Error(file.string() + ": optipfair.feed_forward_lengths holds " + std::to_string(x) +
                    ", outside 1.." + std::to_string(c.intermediate_size));
    c.intermediate_sizes = std::move(widths);
  }
  if (g.has(key("context_length"))) c.max_position_embeddings = g.get_int(key("context_length"));
  c.rms_norm_eps = g.has(key("attention.layer_norm_rms_epsilon")) ? g.get_float(key("attention.layer_norm_rms_epsilon"))
                                                                  : 1e-5;
  if (g.has(key("rope.freq_base"))) c.rope_theta = g.get_float(key("rope.freq_base"));
  if (c.rotary_dim < 0 || c.rotary_dim % 2 != 0)
    throw Error(file.string() + ": rope.dimension_count " + std::to_string(c.rotary_dim) + " is not a positive even number");
  read_rope_scaling(g, arch, c);
  if (arch == "phi3") gguf_read_phi3_config(g, c);
  if (gemma) gguf_read_gemma_config(g, arch, c);
  if (g.has("tokenizer.ggml.bos_token_id")) c.bos_token_id = g.get_int("tokenizer.ggml.bos_token_id");
  if (g.has("tokenizer.ggml.eos_token_id")) c.eos_token_ids = {g.get_int("tokenizer.ggml.eos_token_id")};

  GgufModelReader r(g, file);
  Model m;
  m.source = file;
  m.format = "gguf";
  m.storage.push_back(g.mapping());
  m.mappings.emplace_back(g.mapping()->data(), g.mapping()->size());
  m.tok_embeddings = r.get("token_embd.weight");
  if (g.has(key("vocab_size"))) {
    c.vocab_size = g.get_int(key("vocab_size"));
  } else {
    c.vocab_size = m.tok_embeddings.shape.front();
  }
  m.final_norm = r.get("output_norm.weight");
  m.lm_head = r.get("output.weight", false);
  c.tie_word_embeddings = !m.lm_head.present();
  if (c.tie_word_embeddings) m.lm_head = m.tok_embeddings;
  c.attention_bias = g.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.qk_norm = g.find_tensor("blk.0.attn_q_norm.weight") != nullptr;
  if (arch == "qwen3" && !c.qk_norm) throw Error(file.string() + " is qwen3 but has no attn_q_norm tensors");
  // Ensure heads * head_dim agrees with the tensors before reordering rows by head.
  config_validate(c);

  const bool permuted = arch_is_permuted(arch);
  m.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights& w = m.layers[static_cast<size_t>(l)];
    w.attn_norm = r.get(p + "attn_norm.weight");
    if (const Tensor qkv = r.get(p + "attn_qkv.weight", false); qkv.present()) {
      split_fused_qkv(w, qkv, c);
    } else {
      w.wq = r.get(p + "attn_q.weight");
      w.wk = r.get(p + "attn_k.weight");
      w.wv = r.get(p + "attn_v.weight");
    }
    w.wo = r.get(p + "attn_output.weight");
    w.ffn_norm = r.get(p + "ffn_norm.weight");
    if (c.post_norms()) {
      w.attn_post_norm = r.get(p + "post_attention_norm.weight");
      w.ffn_post_norm = r.get(p + "post_ffw_norm.weight");
    }
    if (arch == "phi3") {  // ffn_up holds the gate's rows, then the up projection's
      split_fused_gate_up(w, r.get(p + "ffn_up.weight"));
    } else {
      w.w_gate = r.get(p + "ffn_gate.weight", false);
      if (!w.w_gate.present())
        throw Error(file.string() + " layer " + std::to_string(l) +
                    " has no ffn_gate tensor: optipfair needs a gated (GLU) MLP");
      w.w_up = r.get(p + "ffn_up.weight");
    }
    w.w_down = r.get(p + "ffn_down.weight");
    const int64_t width = c.intermediate_sizes[static_cast<size_t>(l)];
    if (padded && width < c.intermediate_size && w.w_gate.shape.size() == 2 && w.w_up.shape.size() == 2 &&
        w.w_down.shape.size() == 2 && w.w_down.shape[1] == c.intermediate_size) {
      w.w_gate.shape[0] = width;  // the first rows; the rest are the zero padding
      w.w_up.shape[0] = width;
      w.w_down.row_stride = c.intermediate_size;
      w.w_down.shape[1] = width;
    }
    if (c.attention_bias) {
      w.bq = r.get(p + "attn_q.bias");
      w.bk = r.get(p + "attn_k.bias");
      w.bv = r.get(p + "attn_v.bias");
    }
    if (c.qk_norm) {
      w.q_norm = r.get(p + "attn_q_norm.weight");
      w.k_norm = r.get(p + "attn_k_norm.weight");
    }
    if (gemma)
      for (Tensor* t : {&w.attn_norm, &w.ffn_norm, &w.attn_post_norm, &w.ffn_post_norm, &w.q_norm, &w.k_norm})
        if (t->present()) *t = gguf_gemma_norm_from_file(m, *t);
    if (permuted) {
      w.wq = qk_to_half_copy(m, w.wq, c.num_attention_heads, c.head_dim);
      w.wk = qk_to_half_copy(m, w.wk, c.num_key_value_heads, c.head_dim);
      if (w.bq.present()) w.bq = qk_to_half_copy(m, w.bq, c.num_attention_heads, c.head_dim);
      if (w.bk.present()) w.bk = qk_to_half_copy(m, w.bk, c.num_key_value_heads, c.head_dim);
    }
  }
  if (gemma) m.final_norm = gguf_gemma_norm_from_file(m, m.final_norm);
  c.dtype = m.layers.front().wq.dtype;
  m.config = std::move(c);
  model_validate(m);
  return m;
}

namespace {

// Streams a Tensor's rows (in `row_order`, source row per output row; empty = identity) converted to
// `to`, then `pad_rows` rows of zeros, each row followed by `pad_cols` zeros. Handles strided
// (column-sliced) views. A block type can be copied as is or widened, not produced.
GgufWriter::TensorFill tensor_fill(const Tensor& t, DType to, std::vector<int64_t> row_order, int64_t pad_rows = 0,
                                   int64_t pad_cols = 0) {
  return [&t, to, order = std::move(row_order), pad_rows, pad_cols](std::ostream& out) {
    const std::string zeros(dtype_bytes(to, t.shape.size() == 1 ? 1 : t.cols() + pad_cols), '\0');
    const auto pad_row_bytes = static_cast<std::streamsize>(dtype_bytes(to, pad_cols));
    const bool vector = t.shape.size() == 1;
    const int64_t rows = vector ? t.shape[0] : t.rows();
    const int64_t cols = vector ? 1 : t.cols();
    const size_t src_stride = vector ? dtype_bytes(t.dtype, 1) : dtype_bytes(t.dtype, t.stride());
    const auto* base = static_cast<const uint8_t*>(t.data);
    std::vector<float> f(static_cast<size_t>(cols));
    std::vector<uint8_t> buf(dtype_bytes(dtype_is_quantized(to) ? DType::F32 : to, cols));
    for (int64_t k = 0; k < rows; ++k) {
      const int64_t src_row = order.empty() ? k : order[static_cast<size_t>(k)];
      const uint8_t* src = base + static_cast<size_t>(src_row) * src_stride;
      if (t.dtype == to) {
        out.write(reinterpret_cast<const char*>(src), static_cast<std::streamsize>(dtype_bytes(to, cols)));
        out.write(zeros.data(), pad_row_bytes);
        continue;
      }
      dequantize_blocks(t.dtype, src, f.data(), cols);
      for (int64_t x = 0; x < cols; ++x) {
        switch (to) {
          case DType::F32: std::memcpy(buf.data() + 4 * x, &f[x], 4); break;
          case DType::F16: { uint16_t h = f32_to_f16(f[x]); std::memcpy(buf.data() + 2 * x, &h, 2); break; }
          case DType::BF16: { uint16_t h = f32_to_bf16(f[x]); std::memcpy(buf.data() + 2 * x, &h, 2); break; }
          default: break;  // block types are refused before writing starts
        }
      }
      out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(dtype_bytes(to, cols)));
      out.write(zeros.data(), pad_row_bytes);
    }
    for (int64_t k = 0; k < pad_rows; ++k) out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  };
}

// llama.cpp's general.file_type ("mostly" type) ids.
uint32_t file_type_id(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q4_K: return 15;  // Q4_K_M
    case DType::Q5_K: return 17;  // Q5_K_M
    case DType::Q6_K: return 18;
  }
  return 0;
}

}  // namespace

void save_gguf_model(const Model& m, const fs::path& file, const SaveOptions& options) {
  const ModelConfig& c = m.config;
  std::error_code ec;
  if (!m.source.empty() && fs::exists(file, ec) && fs::equivalent(file, m.source, ec))
    throw Error("refusing to write " + file.string() + " over the model it was loaded from");
  if (!options.overwrite && fs::exists(file, ec))
    throw Error(file.string() + " already exists (pass overwrite to replace it)");
  if (options.dtype && dtype_is_quantized(*options.dtype))
    throw Error(std::string("saving GGUF as ") + dtype_name(*options.dtype) +
                " is not supported (use F32, F16 or BF16; without a type, quantised tensors keep their blocks)");
  model_validate(m);

  std::vector<int64_t> widths;
  for (const LayerWeights& w : m.layers) widths.push_back(w.intermediate_size());
  const bool uniform = std::all_of(widths.begin(), widths.end(), [&](int64_t x) { return x == widths.front(); });
  std::string arch;
  switch (c.model_type) {
    case ModelType::Llama:
    case ModelType::Mistral: arch = uniform ? "llama" : "deci"; break;
    case ModelType::Qwen2:
    case ModelType::Qwen3: arch = model_type_name(c.model_type); break;
    case ModelType::Gemma:
    case ModelType::Gemma2:
    case ModelType::Gemma3: arch = gguf_gemma_arch(c); break;
    case ModelType::Phi3: arch = "phi3"; break;
  }
  const bool gemma = gguf_arch_is_gemma(arch);
  // llama.cpp's qwen and gemma archs read one MLP width: narrower layers are zero-padded to the
  // widest (zero gate, up and down weights add exactly nothing), their widths kept in our key.
  const bool padded = !uniform && arch != "deci";
  const int64_t widest = *std::max_element(widths.begin(), widths.end());
  const bool permute = arch_is_permuted(arch);
  auto key = [&](const std::string& k) { return arch + "." + k; };

  // Writes 2-D weights in options.dtype; vectors (norms, biases) stay float32 as llama.cpp expects.
  auto matrix_type = [&](const Tensor& t) { return options.dtype.value_or(t.dtype); };
  const DType main_type = options.dtype.value_or(c.dtype);

  GgufWriter w;
  w.set("general.architecture", gguf_string(arch));
  w.set("general.name", gguf_string(m.source.empty() ? std::string("optipfair model") : m.source.stem().string()));
  w.set("general.file_type", gguf_uint32(file_type_id(main_type)));
  if (dtype_is_quantized(main_type)) w.set("general.quantization_version", gguf_uint32(2));
  w.set(key("context_length"), gguf_uint32(static_cast<uint32_t>(c.max_position_embeddings)));
  w.set(key("embedding_length"), gguf_uint32(static_cast<uint32_t>(c.hidden_size)));
  w.set(key("block_count"), gguf_uint32(static_cast<uint32_t>(c.num_hidden_layers)));
  w.set(key("feed_forward_length"),
        uniform || padded ? gguf_uint32(static_cast<uint32_t>(widest)) : gguf_int32_array(widths));
  if (padded) w.set("optipfair.feed_forward_lengths", gguf_int32_array(widths));
  w.set(key("attention.head_count"), gguf_uint32(static_cast<uint32_t>(c.num_attention_heads)));
  w.set(key("attention.head_count_kv"), gguf_uint32(static_cast<uint32_t>(c.num_key_value_heads)));
  w.set(key("attention.key_length"), gguf_uint32(static_cast<uint32_t>(c.head_dim)));
  w.set(key("attention.value_length"), gguf_uint32(static_cast<uint32_t>(c.head_dim)));
  w.set(key("attention.layer_norm_rms_epsilon"), gguf_float32(static_cast<float>(c.rms_norm_eps)));
  w.set(key("rope.freq_base"), gguf_float32(static_cast<float>(c.rope_theta)));
  w.set(key("rope.dimension_count"), gguf_uint32(static_cast<uint32_t>(c.rope_dim())));
  w.set(key("vocab_size"), gguf_uint32(static_cast<uint32_t>(c.vocab_size)));
  std::vector<float> rope_factors;
  std::deque<std::vector<float>> phi3_factors;
  if (arch == "phi3") gguf_write_phi3_keys(w, c, phi3_factors);
  if (c.rope_scaling.type != RopeScalingType::None && c.rope_scaling.type != RopeScalingType::LongRope) {
    // llama.cpp reads linear scaling from keys and llama3 scaling from rope_freqs.weight; our own
    // keys keep the exact Hugging Face parameters for a lossless reload.
    if (c.rope_scaling.type == RopeScalingType::Linear) {
      w.set(key("rope.scaling.type"), gguf_string("linear"));
      w.set(key("rope.scaling.factor"), gguf_float32(static_cast<float>(c.rope_scaling.factor)));
    } else if (c.rope_scaling.type == RopeScalingType::Llama3) {
      rope_factors = llama3_rope_factors(c);
    }
    w.set("optipfair.rope_scaling.type", gguf_string(rope_scaling_type_name(c.rope_scaling.type)));
    w.set("optipfair.rope_scaling.factor", gguf_float64(c.rope_scaling.factor));
    w.set("optipfair.rope_scaling.low_freq_factor", gguf_float64(c.rope_scaling.low_freq_factor));
    w.set("optipfair.rope_scaling.high_freq_factor", gguf_float64(c.rope_scaling.high_freq_factor));
    w.set("optipfair.rope_scaling.original_max_position_embeddings",
          gguf_int64(c.rope_scaling.original_max_position_embeddings));
  }
  if (c.bos_token_id >= 0) w.set("tokenizer.ggml.bos_token_id", gguf_uint32(static_cast<uint32_t>(c.bos_token_id)));
  if (!c.eos_token_ids.empty())
    w.set("tokenizer.ggml.eos_token_id", gguf_uint32(static_cast<uint32_t>(c.eos_token_ids.front())));
  if (gemma) gguf_write_gemma_keys(w, arch, c);
  for (const auto& [k, v] : options.gguf_metadata) w.set(k, v);

  auto add = [&](const std::string& name, const Tensor& t, std::vector<int64_t> order = {}) {
    const DType to = t.shape.size() == 1 ? DType::F32 : matrix_type(t);
    if (dtype_is_quantized(to) && t.dtype != to)
      throw Error("cannot convert tensor '" + t.name + "' to " + dtype_name(to));
    if (dtype_is_quantized(to) && !order.empty() && t.shape.size() == 1)
      throw Error(std::string("cannot reorder ") + dtype_name(to) + " vector '" + t.name + "'");
    w.add_tensor(name, to, t.shape, tensor_fill(t, to, std::move(order)));
  };
  auto add_padded = [&](const std::string& name, const Tensor& t, int64_t rows, int64_t cols) {
    const DType to = matrix_type(t);
    if (dtype_is_quantized(to) && t.dtype != to) throw Error("cannot convert tensor '" + t.name + "' to " + dtype_name(to));
    if (cols % dtype_block_elements(to) != 0)
      throw Error("cannot zero-pad " + std::string(dtype_name(to)) + " tensor '" + t.name + "' by " +
                  std::to_string(cols) + " columns (not whole blocks); save with a float type");
    w.add_tensor(name, to, {t.rows() + rows, t.cols() + cols}, tensor_fill(t, to, {}, rows, cols));
  };
  // Row blocks written as one tensor (Phi-3's fused projections), each padded to `rows` (0: its own).
  auto add_stacked = [&](const std::string& name, std::vector<const Tensor*> parts, int64_t rows) {
    const DType to = matrix_type(*parts.front());
    std::vector<GgufWriter::TensorFill> fills;
    int64_t total = 0;
    for (const Tensor* t : parts) {
      if (dtype_is_quantized(to) && t->dtype != to) throw Error("cannot convert tensor '" + t->name + "' to " + dtype_name(to));
      const int64_t block = rows > 0 ? rows : t->rows();
      fills.push_back(tensor_fill(*t, to, {}, block - t->rows(), 0));
      total += block;
    }
    w.add_tensor(name, to, {total, parts.front()->cols()}, [fills](std::ostream& out) {
      for (const auto& fill : fills) fill(out);
    });
  };
  // Norms: Gemma's as llama.cpp's converter writes them, the factors (1 + w).
  std::deque<std::vector<float>> shifted_norms;
  auto add_norm = [&](const std::string& name, const Tensor& t) {
    if (!gemma) return add(name, t);
    w.add_tensor(name, DType::F32, t.shape, gguf_gemma_norm_to_file(t, shifted_norms));
  };
  auto interleave_order = [&](int64_t rows) {
    std::vector<int64_t> order(static_cast<size_t>(rows));
    // Output (interleaved) row k comes from rotate-half row qk_half_row(k).
    for (int64_t k = 0; k < rows; ++k) order[static_cast<size_t>(k)] = qk_half_row(k, c.head_dim);
    return order;
  };

  if (!rope_factors.empty())
    w.add_tensor("rope_freqs.weight", DType::F32, {static_cast<int64_t>(rope_factors.size())}, rope_factors.data());
  add("token_embd.weight", m.tok_embeddings);
  add_norm("output_norm.weight", m.final_norm);
  const bool tied = c.tie_word_embeddings || m.lm_head.data == m.tok_embeddings.data;
  if (!tied) add("output.weight", m.lm_head);
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const LayerWeights& lw = m.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    add_norm(p + "attn_norm.weight", lw.attn_norm);
    if (arch == "phi3") {
      add_stacked(p + "attn_qkv.weight", {&lw.wq, &lw.wk, &lw.wv}, 0);
    } else {
      add(p + "attn_q.weight", lw.wq, permute ? interleave_order(lw.wq.rows()) : std::vector<int64_t>{});
      add(p + "attn_k.weight", lw.wk, permute ? interleave_order(lw.wk.rows()) : std::vector<int64_t>{});
      add(p + "attn_v.weight", lw.wv);
    }
    add(p + "attn_output.weight", lw.wo);
    if (lw.bq.present()) {
      add(p + "attn_q.bias", lw.bq, permute ? interleave_order(lw.bq.shape[0]) : std::vector<int64_t>{});
      add(p + "attn_k.bias", lw.bk, permute ? interleave_order(lw.bk.shape[0]) : std::vector<int64_t>{});
      add(p + "attn_v.bias", lw.bv);
    }
    if (lw.q_norm.present()) {
      add_norm(p + "attn_q_norm.weight", lw.q_norm);
      add_norm(p + "attn_k_norm.weight", lw.k_norm);
    }
    if (c.post_norms()) add_norm(p + "post_attention_norm.weight", lw.attn_post_norm);
    add_norm(p + "ffn_norm.weight", lw.ffn_norm);
    if (c.post_norms()) add_norm(p + "post_ffw_norm.weight", lw.ffn_post_norm);
    const int64_t pad = padded ? widest - lw.intermediate_size() : 0;
    if (arch == "phi3") {
      add_stacked(p + "ffn_up.weight", {&lw.w_gate, &lw.w_up}, widest);
      if (pad == 0) add(p + "ffn_down.weight", lw.w_down);
      else add_padded(p + "ffn_down.weight", lw.w_down, 0, pad);
    } else if (pad == 0) {
      add(p + "ffn_gate.weight", lw.w_gate);
      add(p + "ffn_up.weight", lw.w_up);
      add(p + "ffn_down.weight", lw.w_down);
    } else {
      add_padded(p + "ffn_gate.weight", lw.w_gate, pad, 0);
      add_padded(p + "ffn_up.weight", lw.w_up, pad, 0);
      add_padded(p + "ffn_down.weight", lw.w_down, 0, pad);
    }
  }
  w.write(file, options.overwrite);
}

}  // namespace optipfair
