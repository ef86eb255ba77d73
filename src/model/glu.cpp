#include "model/glu.h"

#include "kernels/elementwise.h"

namespace optipfair {

void glu_activate(HiddenAct act, float* gate, const float* up, int64_t n) {
  switch (act) {
    case HiddenAct::Silu: silu_mul_inplace(gate, up, n); return;
    case HiddenAct::GeluTanh: gelu_tanh_mul_inplace(gate, up, n); return;
  }
}

}  // namespace optipfair
