// How long an idle OpenMP thread spins before it sleeps. libgomp's default spins about 300,000
// rounds. While another program keeps a core busy, each of a forward pass's ~100 parallel regions
// per token then waits for a thread the scheduler has set aside: on the 2-core machine with one busy
// loop beside it, a 1B model's generation fell from 12 to 1.4 tokens/s and its prompts from 200 to
// 55. Spinning 10,000 rounds, then sleeping, measured the same as the default on an idle machine;
// beside the busy loop, `generate` ran 4.5-6x faster and prompts 1.8x (docs/performance.md, "On a
// busy machine").
//
// libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it loads, before main; glibc resets
// the environment after an executable's .preinit_array runs, so the only way to choose for it is
// to set the variable and start the program again. A value the user set wins.
#pragma once

namespace optipfair::cli {

inline constexpr const char* kDefaultSpinCount = "10000";

// When neither variable is set: sets GOMP_SPINCOUNT and replaces the process with a fresh run of
// the same executable and arguments (about 10 ms). Returns only when nothing was to be done, or
// when the executable could not be started again (the run then goes on with libgomp's default).
void openmp_waits_default(char** argv);

}  // namespace optipfair::cli
