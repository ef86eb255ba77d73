// Public matmul entry points: checks, the naive oracle, instruction-set
// dispatch and the split of work over OpenMP threads.
#include "kernels/matmul.h"

#include <omp.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"
#include "util/error.h"

namespace optipfair {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// F16C and AVX512_BF16 are read from CPUID itself: clang rejects both names in
// __builtin_cpu_supports. Whether the OS saves the wider registers is covered by
// the avx2 / avx512f checks they are combined with.
bool cpu_has_f16c() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29));
}

bool cpu_has_avx512_bf16() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5));
}

// Every CPU with AVX512_BF16 so far also has AVX512_VNNI (the quantised types' integer products);
// the Avx512Bf16 level asks for both.
bool cpu_has_avx512_vnni() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 11));
}
#endif

MatmulIsa detect_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl");
  if (avx512 && cpu_has_avx512_bf16() && cpu_has_avx512_vnni()) return MatmulIsa::Avx512Bf16;
  if (avx512) return MatmulIsa::Avx512;
  if (avx2) return MatmulIsa::Avx2;
#endif
  return MatmulIsa::Scalar;
}

const MatmulIsa g_best_isa = detect_isa();
std::atomic<MatmulIsa> g_isa{g_best_isa};

void check_matrix(const WeightMatrix& w) {
  if (w.rows < 0 || w.cols < 0)
    throw Error("weight matrix has a negative shape (" + std::to_string(w.rows) + " x " +
                std::to_string(w.cols) + ").");
  if (w.cols % dtype_block_elements(w.dtype) != 0)
    throw Error(std::string(dtype_name(w.dtype)) + " weight matrix has " + std::to_string(w.cols) +
                " columns, which is not a multiple of its block of " + std::to_string(dtype_block_elements(w.dtype)) + ".");
  if (w.row_bytes < dtype_bytes(w.dtype, w.cols))
    throw Error("weight matrix row stride of " + std::to_string(w.row_bytes) +
                " bytes is shorter than one row of " + std::to_string(w.cols) + " " +
                dtype_name(w.dtype) + " values.");
  if (w.data == nullptr && w.rows > 0 && w.cols > 0)
    throw Error("weight matrix has no data.");
}

void check_call(const float* y, const float* x, int64_t T, const WeightMatrix& w) {
  check_matrix(w);
  if (T < 0) throw Error("matmul called with a negative number of rows (" + std::to_string(T) + ").");
  if (T > 0 && w.rows > 0 && (y == nullptr || (x == nullptr && w.cols > 0)))
    throw Error("matmul called with a null input or output buffer.");
}

}  // namespace

Precision precision_from_name(std::string_view name) {
  if (name == "fast") return Precision::Fast;
  if (name == "exact") return Precision::Exact;
  throw Error("unknown precision '" + std::string(name) + "' (use fast or exact)");
}

const char* precision_name(Precision precision) { return precision == Precision::Exact ? "exact" : "fast"; }

MatmulIsa matmul_isa_best() { return g_best_isa; }
MatmulIsa matmul_isa() { return g_isa.load(); }
bool bf16_panels_take(MatmulIsa isa) { return isa >= MatmulIsa::Avx2; }
MatmulIsa matmul_set_isa(MatmulIsa isa) {
  MatmulIsa chosen = std::min(isa, g_best_isa);
  g_isa.store(chosen);
  return chosen;
}
const char* matmul_isa_name(MatmulIsa isa) {
  switch (isa) {
    case MatmulIsa::Scalar: return "scalar";
    case MatmulIsa::Avx2: return "avx2";
    case MatmulIsa::Avx512: return "avx512";
    case MatmulIsa::Avx512Bf16: return "avx512bf16";
  }
  return "?";
}

void matmul_naive(float* y, const float* x, int64_t T, const WeightMatrix& w) {
  check_call(y, x, T, w);
  const auto* base = static_cast<const uint8_t*>(w.data);
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t n = 0; n < w.rows; ++n) {
    dequantize_blocks(w.dtype, base + static_cast<size_t>(n) * w.row_bytes, row.data(), w.cols);
    for (int64_t t = 0; t < T; ++t) {
      double s = 0.0;
      for (int64_t k = 0; k < w.cols; ++k) s += static_cast<double>(x[t * w.cols + k]) * row[static_cast<size_t>(k)];
      y[t * w.rows + n] = static_cast<float>(s);
    }
  }
}

void matmul(float* y, const float* x, int64_t T, const WeightMatrix& w, Precision precision) {
  const MatmulOutput out{y, w};
  matmul_group({&out, 1}, x, T, precision);
}

namespace {

// One matrix of a group call: its kernel arguments and its range of the call's work items.
struct GroupPart {
  detail::MatmulArgs a;
  detail::RowsKernel rows = nullptr;
  bool widen_first = false;  // a block type other than Q8_0: rows are widened per work item
  int64_t row_block = 0;     // weight rows a work item takes
  int64_t n_blocks = 0, t_chunks = 0, first_item = 0;
};
constexpr size_t kMaxGroup = 8;

}  // namespace

void matmul_group(std::span<const MatmulOutput> outputs, const float* x, int64_t T, Precision precision) {
  if (outputs.size() > kMaxGroup)
    throw Error("matmul_group takes at most " + std::to_string(kMaxGroup) + " matrices, not " +
                std::to_string(outputs.size()) + ".");
  for (const MatmulOutput& o : outputs) {
    check_call(o.y, x, T, o.w);
    if (o.w.cols != outputs[0].w.cols)
      throw Error("matmul_group: weight matrices of " + std::to_string(outputs[0].w.cols) + " and " +
                  std::to_string(o.w.cols) + " columns cannot share one input.");
  }
  if (outputs.empty() || T == 0) return;
  const int64_t K = outputs[0].w.cols;

  detail::RowsKernel f32_rows = detail::matmul_rows_scalar;
  const MatmulIsa isa = g_isa.load();
  if (isa >= MatmulIsa::Avx512) f32_rows = detail::matmul_rows_avx512;
  else if (isa == MatmulIsa::Avx2) f32_rows = detail::matmul_rows_avx2;
  const detail::WidenFn widen = isa >= MatmulIsa::Avx512 ? detail::dequantize_blocks_avx512
                                : isa == MatmulIsa::Avx2 ? detail::dequantize_blocks_avx2
                                                         : dequantize_blocks;

  const bool bf16_x = isa == MatmulIsa::Avx512Bf16 && precision == Precision::Fast && K > 0 &&
                      std::any_of(outputs.begin(), outputs.end(), [](const MatmulOutput& o) { return o.w.dtype == DType::BF16; });
  thread_local std::vector<uint16_t> x_bf16;
  if (bf16_x) {
    x_bf16.resize(static_cast<size_t>(T * K));
    detail::convert_f32_to_bf16_avx512bf16(x_bf16.data(), x, T * K);
  }

  // Block types in fast mode: x rounded to 8-bit integers once for the integer dot products, per
  // 256 values for the K-quants, per 32 for the others (which take whole pairs of blocks: an odd
  // count keeps the float path).
  auto per_32 = [](DType t) {
    return t == DType::Q4_0 || t == DType::Q4_1 || t == DType::Q5_0 || t == DType::Q5_1 || t == DType::Q8_0;
  };
  auto integer_dots = [&](DType t) {
    const bool k_quant = t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K;
    return isa == MatmulIsa::Avx512Bf16 && precision == Precision::Fast && (k_quant || (per_32(t) && K % 64 == 0));
  };
  auto any_output = [&](auto pred) { return std::any_of(outputs.begin(), outputs.end(), [&](const MatmulOutput& o) { return pred(o.w.dtype); }); };
  thread_local std::vector<detail::XBlockQ8K> x_q8k;
  thread_local std::vector<detail::XPairQ8_0> x_q8_0;
  const int64_t q8k_blocks = K / kQKBlockSize, q8_0_pairs = K / 64;
  if (any_output([&](DType t) { return integer_dots(t) && !per_32(t); })) {
    x_q8k.resize(static_cast<size_t>(T * q8k_blocks));
    for (int64_t t = 0; t < T; ++t) detail::quantize_x_q8k(x + t * K, K, x_q8k.data() + t * q8k_blocks);
  }
  if (any_output([&](DType t) { return integer_dots(t) && per_32(t); })) {
    x_q8_0.resize(static_cast<size_t>(T * q8_0_pairs));
    for (int64_t t = 0; t < T; ++t) detail::quantize_x_q8_0(x + t * K, K, x_q8_0.data() + t * q8_0_pairs);
  }
  // The 32-value types from panels (block_panels_pack) meet x as signed blocks, converted from the
  // pairs above rather than rounded again, so both paths see the same x (a pass over T * K bytes);
  // the K-quants from panels read x_q8k as in place.
  auto block_panels = [&](const MatmulOutput& o) { return block_panels_take(o.w.dtype) && o.w.panels && integer_dots(o.w.dtype); };
  // Without AVX512_BF16, fast mode multiplies packed BF16 weights with float32 x (as exact mode
  // does, but from the panels and so summed in another order), with AVX2 or AVX-512 registers.
  auto f32_panels = [&](const MatmulOutput& o) {
    return (isa == MatmulIsa::Avx2 || isa == MatmulIsa::Avx512) && precision == Precision::Fast &&
           o.w.dtype == DType::BF16 && o.w.panels;
  };
  thread_local std::vector<detail::XBlockQ8_0> x_q8_0s;
  if (std::any_of(outputs.begin(), outputs.end(), [&](const MatmulOutput& o) { return block_panels(o) && per_32(o.w.dtype); })) {
    x_q8_0s.resize(static_cast<size_t>(T * 2 * q8_0_pairs));
    detail::x_q8_0_signed(x_q8_0.data(), T * q8_0_pairs, x_q8_0s.data());
  }

  // Work items: blocks of kRowBlock weight rows (one panel of kPanelRows for
  // packed BF16 weights, of kBlockPanelRows for the block types) times chunks
  // of x's rows. A chunk bounds the x rows a kernel runs against its weight rows, kept in L2
  // (512 KB per K block: 128 rows of bf16 or 64 of float32); chunks are of
  // equal size, give or take a row. Results do not depend on the split: every
  // y element is summed in the same order whichever item computes it.
  //  - bf16 x (the fast path, compute at ~2x the float32 rate) and panels: all
  //    chunks of a row block one after the other, so each weight comes from
  //    memory once per call and the threads share the weights rather than each streaming
  //    all of them (figures in docs/performance_forward.md).
  //  - float32 x: chunk after chunk (each x panel stays in L2 while the weights
  //    stream past), which measured 3-6 % faster there than row-block order.
  // (Chunks were fixed 64-row slices: 65 rows, an evaluation call's logits
  // budget with Llama-3's vocabulary, left one thread the 64 and the other a
  // lone row's pass over every weight.)
  // A group's matrices follow one another in the item order, so a static split
  // still hands each thread one contiguous stretch of weights.
  constexpr int64_t kRowBlock = 16;
  std::array<GroupPart, kMaxGroup> parts;
  size_t n_parts = 0;
  int64_t items = 0, work = 0;
  for (const MatmulOutput& o : outputs) {
    const int64_t N = o.w.rows;
    if (N == 0) continue;
    if (K == 0) {
      std::fill(o.y, o.y + T * N, 0.0f);
      continue;
    }
    GroupPart& p = parts[n_parts++];
    p.a.y = o.y;
    p.a.x = x;
    p.a.T = T;
    p.a.K = K;
    p.a.ldy = N;
    p.a.w = static_cast<const uint8_t*>(o.w.data);
    p.a.row_bytes = o.w.row_bytes;
    p.a.dtype = o.w.dtype;
    p.rows = f32_rows;
    p.row_block = kRowBlock;
    if (bf16_x && o.w.dtype == DType::BF16) {
      p.a.x_bf16 = x_bf16.data();
      p.rows = detail::matmul_rows_avx512bf16;
      if (o.w.panels) {  // a work item is one panel
        p.a.panels = o.w.panels;
        p.rows = detail::matmul_rows_panels_avx512bf16;
        p.row_block = kPanelRows;
      }
    } else if (f32_panels(o)) {  // x stays float32: a work item is one panel
      p.a.panels = o.w.panels;
      p.rows = isa == MatmulIsa::Avx512 ? detail::matmul_rows_panels_avx512 : detail::matmul_rows_panels_avx2;
      p.row_block = kPanelRows;
    }
    const bool int8_x = integer_dots(o.w.dtype);
    if (int8_x) {
      if (per_32(o.w.dtype)) p.a.x_q8_0 = x_q8_0.data();
      else p.a.x_q8k = x_q8k.data();
      p.rows = detail::matmul_rows_int8_avx512vnni;
      if (block_panels(o)) {  // a work item is one panel
        p.a.panels = o.w.panels;
        if (per_32(o.w.dtype)) p.a.x_q8_0s = x_q8_0s.data();  // the K-quants read x_q8k
        p.rows = detail::matmul_rows_block_panels_avx512vnni;
        p.row_block = kBlockPanelRows;
      }
    }
    p.widen_first = dtype_is_quantized(o.w.dtype) && o.w.dtype != DType::Q8_0 && !int8_x;
    const int64_t t_chunk_max = p.a.x_bf16 ? 128 : 64;
    p.n_blocks = (N + p.row_block - 1) / p.row_block;
    p.t_chunks = (T + t_chunk_max - 1) / t_chunk_max;
    p.first_item = items;
    items += p.n_blocks * p.t_chunks;
    work += T * N * K;
  }
  // Below about 256k multiply-adds (a 512 KB bf16 matrix at T = 1, a few
  // microseconds of streaming) waking a second thread costs about as much as
  // it saves.
  if (items == 0) return;
  const bool parallel = items > 1 && work >= (int64_t{1} << 18) && !omp_in_parallel();
  auto run_item = [&](int64_t i) {
    size_t pi = n_parts - 1;
    while (parts[pi].first_item > i) --pi;
    const GroupPart& p = parts[pi];
    const int64_t item = i - p.first_item;
    const bool block_major = p.a.x_bf16 != nullptr || p.a.panels != nullptr;
    const int64_t nb = block_major ? item / p.t_chunks : item % p.n_blocks;
    const int64_t tc = block_major ? item % p.t_chunks : item / p.n_blocks;
    detail::MatmulArgs part = p.a;
    const int64_t t0 = tc * T / p.t_chunks;
    part.T = (tc + 1) * T / p.t_chunks - t0;
    part.x = p.a.x + t0 * K;
    if (part.x_bf16) part.x_bf16 = p.a.x_bf16 + t0 * K;
    if (part.x_q8k) part.x_q8k = p.a.x_q8k + t0 * q8k_blocks;
    if (part.x_q8_0) part.x_q8_0 = p.a.x_q8_0 + t0 * q8_0_pairs;
    if (part.x_q8_0s) part.x_q8_0s = p.a.x_q8_0s + t0 * 2 * q8_0_pairs;
    part.y = p.a.y + t0 * p.a.ldy;
    const int64_t n0 = nb * p.row_block, n1 = std::min(p.a.ldy, (nb + 1) * p.row_block);
    if (p.widen_first && T == 1 && isa >= MatmulIsa::Avx512) detail::matmul_rows_blocks_avx512(part, n0, n1);
    else if (p.widen_first) detail::matmul_rows_dequant(part, n0, n1, p.rows, widen);
    else p.rows(part, n0, n1);
  };
  // Each thread takes one contiguous stretch of items holding an equal share of the weight bytes,
  // not of the items: a group can mix types of different sizes and costs (Q4_K_M's q and k are
  // Q4_K, its v Q6_K), and an even count of items then left one thread waiting for the other.
  std::array<int64_t, kMaxGroup + 1> bytes_before{};
  for (size_t i = 0; i < n_parts; ++i)
    bytes_before[i + 1] = bytes_before[i] + static_cast<int64_t>(parts[i].a.row_bytes) * parts[i].a.ldy;
  auto item_at = [&](int64_t share, int64_t shares) {  // the first item of share `share` of `shares`
    if (share == shares) return items;
    const int64_t target = bytes_before[n_parts] / shares * share;
    size_t pi = 0;
    while (pi + 1 < n_parts && bytes_before[pi + 1] <= target) ++pi;
    const GroupPart& p = parts[pi];
    const int64_t part_items = p.n_blocks * p.t_chunks, part_bytes = bytes_before[pi + 1] - bytes_before[pi];
    return p.first_item + std::min(part_items, (target - bytes_before[pi]) * part_items / std::max<int64_t>(part_bytes, 1));
  };
#pragma omp parallel if (parallel)
  {
    const int th = omp_get_thread_num(), nt = omp_get_num_threads();
    for (int64_t i = item_at(th, nt), end = item_at(th + 1, nt); i < end; ++i) run_item(i);
  }
}

void dequantize_row(float* dst, const WeightMatrix& w, int64_t row) {
  check_matrix(w);
  if (row < 0 || row >= w.rows)
    throw Error("row " + std::to_string(row) + " is outside a weight matrix of " +
                std::to_string(w.rows) + " rows.");
  const uint8_t* p = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * w.row_bytes;
  switch (w.dtype) {
    case DType::F32:
      std::memcpy(dst, p, static_cast<size_t>(w.cols) * 4);
      break;
    case DType::BF16:
      for (int64_t k = 0; k < w.cols; ++k) {
        uint16_t h;
        std::memcpy(&h, p + 2 * k, 2);
        dst[k] = bf16_to_f32(h);
      }
      break;
    default:
      dequantize_blocks(w.dtype, p, dst, w.cols);
      break;
  }
}

}  // namespace optipfair
