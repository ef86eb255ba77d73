#include "bias/pca.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace optipfair {

void symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>& eigenvalues,
                     std::vector<double>& eigenvectors) {
  auto A = [&](int64_t i, int64_t j) -> double& { return a[static_cast<size_t>(i * n + j)]; };
  std::vector<double> v(static_cast<size_t>(n * n), 0.0);
  auto V = [&](int64_t i, int64_t j) -> double& { return v[static_cast<size_t>(i * n + j)]; };
  for (int64_t i = 0; i < n; ++i) V(i, i) = 1.0;
  double scale = 0;
  for (double x : a) scale += x * x;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) off += A(i, j) * A(i, j);
    if (off <= 1e-30 * std::max(scale, 1e-300)) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = A(p, q);
        if (std::fabs(apq) < 1e-300) continue;
        // Rotation that zeroes A(p, q) (Golub & Van Loan, symmetric Schur decomposition).
        const double theta = (A(q, q) - A(p, p)) / (2.0 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int64_t k = 0; k < n; ++k) {
          const double akp = A(k, p), akq = A(k, q);
          A(k, p) = c * akp - s * akq;
          A(k, q) = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double apk = A(p, k), aqk = A(q, k);
          A(p, k) = c * apk - s * aqk;
          A(q, k) = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double vkp = V(k, p), vkq = V(k, q);
          V(k, p) = c * vkp - s * vkq;
          V(k, q) = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return A(x, x) > A(y, y); });
  eigenvalues.resize(static_cast<size_t>(n));
  eigenvectors.resize(static_cast<size_t>(n * n));
  for (int64_t k = 0; k < n; ++k) {
    const int64_t col = order[static_cast<size_t>(k)];
    eigenvalues[static_cast<size_t>(k)] = A(col, col);
    for (int64_t i = 0; i < n; ++i) eigenvectors[static_cast<size_t>(k * n + i)] = V(i, col);
  }
}

PcaResult pca(const std::vector<float>& points, int64_t n, int64_t d, int64_t k) {
  PcaResult r;
  if (n == 0 || d == 0) return r;
  k = std::min({k, n, d});
  r.components = k;
  std::vector<double> mean(static_cast<size_t>(d), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) mean[static_cast<size_t>(j)] += points[static_cast<size_t>(i * d + j)];
  for (double& m : mean) m /= static_cast<double>(n);
  std::vector<double> x(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      x[static_cast<size_t>(i * d + j)] = points[static_cast<size_t>(i * d + j)] - mean[static_cast<size_t>(j)];
  const double denom = n > 1 ? static_cast<double>(n - 1) : 1.0;
  std::vector<double> vals, vecs;
  r.scores.assign(static_cast<size_t>(n * k), 0.0);
  double total = 0;
  if (d <= n) {
    std::vector<double> cov(static_cast<size_t>(d * d), 0.0);
    for (int64_t a = 0; a < d; ++a)
      for (int64_t b = a; b < d; ++b) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += x[static_cast<size_t>(i * d + a)] * x[static_cast<size_t>(i * d + b)];
        cov[static_cast<size_t>(a * d + b)] = cov[static_cast<size_t>(b * d + a)] = s / denom;
      }
    symmetric_eigen(cov, d, vals, vecs);
    for (int64_t c = 0; c < k; ++c)
      for (int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (int64_t j = 0; j < d; ++j) s += x[static_cast<size_t>(i * d + j)] * vecs[static_cast<size_t>(c * d + j)];
        r.scores[static_cast<size_t>(i * k + c)] = s;
      }
  } else {
    // Gram matrix G = X X^T: its eigenvectors u give the scores sqrt(lambda) * u, and lambda / (n-1)
    // are the covariance eigenvalues.
    std::vector<double> g(static_cast<size_t>(n * n), 0.0);
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = a; b < n; ++b) {
        double s = 0;
        const double* xa = &x[static_cast<size_t>(a * d)];
        const double* xb = &x[static_cast<size_t>(b * d)];
        for (int64_t j = 0; j < d; ++j) s += xa[j] * xb[j];
        g[static_cast<size_t>(a * n + b)] = g[static_cast<size_t>(b * n + a)] = s;
      }
    symmetric_eigen(g, n, vals, vecs);
    for (double& l : vals) l = std::max(l, 0.0) / denom;
    for (int64_t c = 0; c < k; ++c) {
      const double sv = std::sqrt(vals[static_cast<size_t>(c)] * denom);
      for (int64_t i = 0; i < n; ++i) r.scores[static_cast<size_t>(i * k + c)] = sv * vecs[static_cast<size_t>(c * n + i)];
    }
  }
  for (double l : vals) total += std::max(l, 0.0);
  for (int64_t c = 0; c < k; ++c) {
    double big = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double s = r.scores[static_cast<size_t>(i * k + c)];
      if (std::fabs(s) > std::fabs(big)) big = s;
    }
    if (big < 0)
      for (int64_t i = 0; i < n; ++i) r.scores[static_cast<size_t>(i * k + c)] *= -1;
    r.explained_variance.push_back(vals[static_cast<size_t>(c)]);
    r.explained_variance_ratio.push_back(total > 0 ? vals[static_cast<size_t>(c)] / total : 0.0);
  }
  return r;
}

}  // namespace optipfair
