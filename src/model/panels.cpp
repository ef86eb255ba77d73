#include "model/panels.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "util/error.h"
#include "util/large_alloc.h"

namespace optipfair {
namespace {

// Drops from memory the pages of [begin, end) that lie wholly inside one of the model's file
// mappings: the fast path reads the panels now, and whatever reads the rows again (exact products,
// embeddings, saving) faults them back in from the file. Owned buffers are never touched: dropping
// anonymous pages would zero them.
void release_mapped(const Model& model, const uint8_t* begin, const uint8_t* end) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (std::span<const uint8_t> m : model.mappings) {
    if (begin < m.data() || end > m.data() + m.size()) continue;
    const uintptr_t a = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
    const uintptr_t b = reinterpret_cast<uintptr_t>(end) / page * page;
    if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);  // advice: failure changes nothing
    return;
  }
}

// Packs t when it is a BF16 or block-type matrix without matching panels; returns its
// panels' bytes (0 if none). BF16 is packed where bf16_panels_take says; the block types when the
// fast path multiplies them with integer dot products (AVX512_VNNI, K a multiple of 64, matmul.cpp).
size_t pack_tensor(const Model& model, Tensor& t) {
  if (!t.present() || t.shape.size() != 2) return 0;
  const bool bf16 = t.dtype == DType::BF16 && bf16_panels_take(matmul_isa()),
             blocks = matmul_isa() >= MatmulIsa::Avx512Bf16 && block_panels_take(t.dtype) && t.cols() % 64 == 0;
  if (!bf16 && !blocks) return 0;
  const WeightMatrix m = t.matrix();
  const size_t bytes = bf16 ? bf16_panels_size(m.rows, m.cols) * sizeof(uint16_t) : block_panels_size(m.dtype, m.rows, m.cols);
  if (m.panels) return bytes;
  void* p = large_alloc(bytes);
  if (!p && bytes > 0) throw Error("out of memory packing " + t.name + " (" + std::to_string(bytes) + " bytes).");
  std::shared_ptr<const void> values(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  if (bf16) bf16_panels_pack(static_cast<uint16_t*>(p), m);
  else block_panels_pack(static_cast<uint8_t*>(p), m);
  t.panels = std::make_shared<const PackedPanels>(PackedPanels{m.data, m.dtype, m.rows, m.cols, m.row_bytes, std::move(values)});
  const auto* first = static_cast<const uint8_t*>(m.data);
  if (m.rows > 0) release_mapped(model, first, first + static_cast<size_t>(m.rows - 1) * m.row_bytes + dtype_bytes(m.dtype, m.cols));
  return bytes;
}

// Calls f on every matrix the forward pass multiplies: the LM head, then each layer's projections.
// The LM head comes first because it is the largest matrix and packing holds a matrix twice (its
// mapped rows are dropped once its panels are complete); packed last, it was held twice on top of
// every other panel.
template <class M, class F>
void each_projection(M& model, F f) {
  f(model.lm_head);
  for (auto& w : model.layers)
    for (auto* t : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w_gate, &w.w_up, &w.w_down}) f(*t);
}

}  // namespace

size_t model_pack_panels(Model& model) {
  size_t bytes = 0;
  each_projection(model, [&](Tensor& t) { bytes += pack_tensor(model, t); });
  return bytes;
}

bool model_has_panels(const Model& model) {
  bool any = false;
  each_projection(model, [&](const Tensor& t) {
    any = any || (t.present() && t.shape.size() == 2 && t.matrix().panels != nullptr);
  });
  return any;
}

}  // namespace optipfair
