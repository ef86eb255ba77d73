// Principal component analysis of a few dozen points in a high-dimensional space (the token
// representations of two prompts in one layer), with a cyclic Jacobi eigen-solver.
#pragma once
#include <cstdint>
#include <vector>

namespace optipfair {

// Eigen-decomposition of a symmetric n x n matrix (row-major). Eigenvalues come back in descending
// order; eigenvectors[k * n + i] is component i of the k-th eigenvector (unit length).
void symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>& eigenvalues,
                     std::vector<double>& eigenvectors);

struct PcaResult {
  int64_t components = 0;
  std::vector<double> scores;              // points x components, row-major
  std::vector<double> explained_variance;  // per component (unbiased, as scikit-learn)
  std::vector<double> explained_variance_ratio;
};

// Projects `points` (n x d, row-major) onto their first `k` principal components. The covariance
// (d x d) is decomposed when d <= n, else the centred Gram matrix (n x n), which has the same
// non-zero spectrum and is far smaller for token sets. Each component's sign is fixed so that the
// first score of largest magnitude is positive (scikit-learn fixes it by a similar rule; signs are arbitrary).
PcaResult pca(const std::vector<float>& points, int64_t n, int64_t d, int64_t k = 2);

}  // namespace optipfair
