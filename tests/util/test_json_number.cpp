#include <gtest/gtest.h>

#include <limits>

#include "util/json_number.h"

namespace optipfair {
namespace {

using nlohmann::json;

TEST(JsonNumber, ExactIntegersOnly) {
  EXPECT_EQ(json_exact_int64(json(42)), 42);
  EXPECT_EQ(json_exact_int64(json(-7)), -7);
  EXPECT_EQ(json_exact_int64(json(4096.0)), 4096);
  EXPECT_EQ(json_exact_int64(json(9223372036854775807ll)), INT64_MAX);
  EXPECT_EQ(json_exact_int64(json(-9223372036854775807ll - 1)), INT64_MIN);
  EXPECT_EQ(json_exact_int64(json(-9223372036854775808.0)), INT64_MIN);
  EXPECT_EQ(json_exact_int64(json(9223372036854775808ull)), std::nullopt);
  EXPECT_EQ(json_exact_int64(json(9223372036854775808.0)), std::nullopt);  // 2^63
  EXPECT_EQ(json_exact_int64(json(1e300)), std::nullopt);
  EXPECT_EQ(json_exact_int64(json(-1e300)), std::nullopt);
  EXPECT_EQ(json_exact_int64(json(2.5)), std::nullopt);
  EXPECT_EQ(json_exact_int64(json(std::numeric_limits<double>::quiet_NaN())), std::nullopt);
  EXPECT_EQ(json_exact_int64(json("3")), std::nullopt);
  EXPECT_EQ(json_exact_int64(json(nullptr)), std::nullopt);
  EXPECT_EQ(json_exact_int64(nlohmann::ordered_json(12)), 12);
}

}  // namespace
}  // namespace optipfair
