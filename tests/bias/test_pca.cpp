// The Jacobi eigen-solver and PCA against hand-computed cases.
#include <cmath>

#include <gtest/gtest.h>

#include "bias/pca.h"

namespace optipfair {
namespace {

TEST(Pca, EigenOfTwoByTwoMatchesHandComputation) {
  // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/sqrt2 and (1, -1)/sqrt2.
  std::vector<double> vals, vecs;
  symmetric_eigen({2, 1, 1, 2}, 2, vals, vecs);
  EXPECT_NEAR(vals[0], 3.0, 1e-12);
  EXPECT_NEAR(vals[1], 1.0, 1e-12);
  EXPECT_NEAR(std::fabs(vecs[0]), 1 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(vecs[0] * vecs[1], 0.5, 1e-12);   // same sign
  EXPECT_NEAR(vecs[2] * vecs[3], -0.5, 1e-12);  // opposite signs
}

TEST(Pca, EigenOfThreeByThreeDiagonalisesAndReconstructs) {
  // [[4,1,0],[1,3,1],[0,1,2]]: eigenvalues 3 + sqrt3, 3, 3 - sqrt3 (characteristic polynomial by hand).
  const std::vector<double> a = {4, 1, 0, 1, 3, 1, 0, 1, 2};
  std::vector<double> vals, vecs;
  symmetric_eigen(a, 3, vals, vecs);
  EXPECT_NEAR(vals[0], 3 + std::sqrt(3.0), 1e-10);
  EXPECT_NEAR(vals[1], 3.0, 1e-10);
  EXPECT_NEAR(vals[2], 3 - std::sqrt(3.0), 1e-10);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 3; ++i) {
      double av = 0;
      for (int j = 0; j < 3; ++j) av += a[i * 3 + j] * vecs[k * 3 + j];
      EXPECT_NEAR(av, vals[k] * vecs[k * 3 + i], 1e-10);
    }
}

TEST(Pca, PointsOnALineHaveAllVarianceOnTheFirstComponent) {
  // Points t * (1, 2, 2) for t = -1, 0, 1, 2: PC1 explains everything; scores are t*3 centred.
  std::vector<float> pts;
  for (float t : {-1.f, 0.f, 1.f, 2.f}) pts.insert(pts.end(), {t, 2 * t, 2 * t});
  const PcaResult r = pca(pts, 4, 3, 2);
  ASSERT_EQ(r.components, 2);
  EXPECT_NEAR(r.explained_variance_ratio[0], 1.0, 1e-9);
  EXPECT_NEAR(r.explained_variance_ratio[1], 0.0, 1e-9);
  // variance of t*3 for t in {-1,0,1,2}: 9 * var(t) = 9 * 5/3 = 15
  EXPECT_NEAR(r.explained_variance[0], 15.0, 1e-9);
  // Sign rule: the first point of largest |score| (here t = -1, tied with t = 2) is positive.
  const double expect[] = {4.5, 1.5, -1.5, -4.5};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(r.scores[i * 2], expect[i], 1e-9);
}

TEST(Pca, GramPathEqualsCovariancePath) {
  // 3 points in 5 dimensions (Gram path) against the same points padded to 6 copies... compare
  // with the covariance path by duplicating the data: variance ratios are invariant.
  const std::vector<float> pts = {1, 0, 2, 0, 1, 0, 3, 1, 1, 0, 2, 2, 0, 1, 4};
  const PcaResult g = pca(pts, 3, 5, 2);  // d > n: Gram
  std::vector<float> six(pts);
  six.insert(six.end(), pts.begin(), pts.end());
  six.insert(six.end(), pts.begin(), pts.end());
  const PcaResult c = pca(six, 9, 5, 2);  // d <= n: covariance
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(g.explained_variance_ratio[k], c.explained_variance_ratio[k], 1e-9);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(std::fabs(g.scores[i * 2 + k]), std::fabs(c.scores[i * 2 + k]), 1e-6);
}

}  // namespace
}  // namespace optipfair
