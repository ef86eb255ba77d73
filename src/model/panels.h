// Preparing a model's BF16 and block-type weights for fast products: each projection
// packed once into the panels the AVX512_BF16 / AVX512_VNNI kernels (and, for BF16, the float32
// AVX2 and AVX-512 ones) multiply from (kernels/matmul.h), 1.5-2x faster at prompt lengths than
// reading the rows in place for BF16 (float32 kernels: 1.1-1.4x, and generation 1.3-1.9x),
// 1.3-2.7x for the block types (docs/performance_forward.md, docs/performance_panels.md). The
// panels are a second copy of those weights in anonymous memory; the mapped originals stay for the
// exact path, embeddings and saving, and once packed the fast path no longer reads them (clean
// file pages the kernel may reclaim).
#pragma once
#include <cstddef>

#include "model/model.h"

namespace optipfair {

// Packs every BF16 or block-type matrix the forward pass multiplies (q, k, v, o, gate, up,
// down and the LM head) that has no matching panels yet, when the CPU multiplies it from panels
// (BF16 on avx2 and up, the block types on avx512bf16); otherwise changes nothing. Returns
// the bytes of panels the model now holds. Exact mode ignores them, so commands that run only
// exact products need not call it.
size_t model_pack_panels(Model& model);

// Whether any matrix of the model multiplies from panels: what model_pack_panels leaves. A copy
// made from such a model (pruning, prune/apply.h) is packed too, so that the two run the same
// kernels and differ only by the cut.
bool model_has_panels(const Model& model);

}  // namespace optipfair
