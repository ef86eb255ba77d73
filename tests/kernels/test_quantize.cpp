// quantize_blocks against dequantize_blocks (itself bit for bit with ggml, test_quants.cpp): every
// position of every block type comes back where it was put, random data comes back within each
// type's error, and the legacy types give ggml's reference bytes (data/ggml_quantize.json).
#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/quants.h"
#include "util/build_paths.h"
#include "util/error.h"

using namespace optipfair;

namespace {

const DType kBlockTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                             DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(dtype_bytes(t, static_cast<int64_t>(x.size())));
  quantize_blocks(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  dequantize_blocks(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

// One non-zero value per super-block: it must come back at its own position, every other one as
// zero. Catches any mix-up of nibbles, fifth/sixth bits or sub-block scales.
TEST(Quantize, EveryPositionComesBackInPlace) {
  for (DType t : kBlockTypes) {
    const int64_t be = dtype_block_elements(t);
    for (int64_t p = 0; p < be; ++p) {
      for (float v : {0.75f, -1.5f}) {
        std::vector<float> x(static_cast<size_t>(be), 0.0f);
        x[static_cast<size_t>(p)] = v;
        const std::vector<float> y = round_trip(t, x);
        for (int64_t i = 0; i < be; ++i) {
          SCOPED_TRACE(std::string(dtype_name(t)) + " value at " + std::to_string(p) + ", element " + std::to_string(i));
          if (i == p) ASSERT_NEAR(y[static_cast<size_t>(i)], v, 0.02 * std::fabs(v));
          else ASSERT_NEAR(y[static_cast<size_t>(i)], 0.0f, 0.07 * std::fabs(v));  // Q4_1's f16 minimum
        }
      }
    }
  }
}

// Normal data with outliers: root-mean-square error relative to the data's, per type (4-bit types
// have 16 levels over each block's range, 5-bit 32, 6-bit 64, 8-bit 255).
TEST(Quantize, RandomDataWithinEachTypesError) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(4096);
  for (float& v : x) v = normal(rng);
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 8;  // outliers, as real weights have
  // Measured: 0.147, 0.098, 0.072, 0.047, 0.0092, 0.099, 0.048, 0.028.
  const std::pair<DType, double> limits[] = {{DType::Q4_0, 0.18}, {DType::Q4_1, 0.12}, {DType::Q5_0, 0.09},
                                             {DType::Q5_1, 0.06}, {DType::Q8_0, 0.012}, {DType::Q4_K, 0.12},
                                             {DType::Q5_K, 0.06}, {DType::Q6_K, 0.035}};
  double rms = 0;
  for (float v : x) rms += static_cast<double>(v) * v;
  rms = std::sqrt(rms / static_cast<double>(x.size()));
  for (auto [t, limit] : limits) {
    const std::vector<float> y = round_trip(t, x);
    double err = 0;
    for (size_t i = 0; i < x.size(); ++i) err += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
    err = std::sqrt(err / static_cast<double>(x.size()));
    EXPECT_LT(err / rms, limit) << dtype_name(t);
    EXPECT_GT(err / rms, limit / 64) << dtype_name(t) << ": suspiciously exact";
  }
  // All zeros stay zeros (no division by a zero scale).
  for (DType t : kBlockTypes)
    for (float v : round_trip(t, std::vector<float>(256, 0.0f))) ASSERT_EQ(v, 0.0f) << dtype_name(t);
}

// The input of data/ggml_quantize.json: a 64-bit LCG, values in [-0.05, 0.05], every 97th eight
// times larger.
std::vector<float> ggml_input(int n) {
  std::vector<float> x(static_cast<size_t>(n));
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[static_cast<size_t>(i)] = static_cast<float>(static_cast<int>((s >> 33) % 2001) - 1000) / 1000.0f * 0.05f;
    if (i % 97 == 0) x[static_cast<size_t>(i)] *= 8;
  }
  return x;
}

TEST(Quantize, LegacyTypesWriteGgmlsReferenceBytes) {
  std::ifstream in(std::string(OPTIPFAIR_TEST_DATA_DIR) + "/kernels/data/ggml_quantize.json");
  ASSERT_TRUE(in) << "tests/kernels/data/ggml_quantize.json is missing";
  const nlohmann::json j = nlohmann::json::parse(in);
  const std::vector<float> x = ggml_input(512);
  int checked = 0;
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0}) {
    std::vector<uint8_t> q(dtype_bytes(t, 512));
    quantize_blocks(t, x.data(), q.data(), 512);
    std::string hex;
    char buf[3];
    for (uint8_t b : q) {
      std::snprintf(buf, sizeof buf, "%02x", b);
      hex += buf;
    }
    EXPECT_EQ(hex, j.at(dtype_name(t)).get<std::string>()) << dtype_name(t);
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(Quantize, RefusesPlainTypesAndPartialBlocks) {
  std::vector<float> x(300, 1.0f);
  std::vector<uint8_t> q(4096);
  EXPECT_THROW(quantize_blocks(DType::BF16, x.data(), q.data(), 32), Error);
  EXPECT_THROW(quantize_blocks(DType::Q4_0, x.data(), q.data(), 40), Error);
  EXPECT_THROW(quantize_blocks(DType::Q4_K, x.data(), q.data(), 288), Error);
}

}  // namespace
