// The gated MLP's activation, by the config's hidden_act: silu(gate) * up (SwiGLU) or
// gelu_tanh(gate) * up (GeGLU).
#pragma once
#include <cstdint>

#include "model/config.h"

namespace optipfair {

// gate[i] = act(gate[i]) * up[i] for i < n.
void glu_activate(HiddenAct act, float* gate, const float* up, int64_t n);

}  // namespace optipfair
