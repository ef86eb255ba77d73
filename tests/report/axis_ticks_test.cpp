// Tick placement and labels: the numbers a reader sees on every axis.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "report/plot_canvas.h"

namespace optipfair::detail {
namespace {

TEST(AxisTicks, NiceStepsCoverTheRange) {
  const AxisTicks t = axis_ticks(0, 0.0374, 6, true);
  EXPECT_DOUBLE_EQ(t.step, 0.01);
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_NEAR(t.hi, 0.04, 1e-12);
  ASSERT_EQ(t.values.size(), 5u);
  EXPECT_EQ(format_tick(t.values[2], t.step), "0.02");
}

TEST(AxisTicks, NegativeRangeUsesMinusSign) {
  const AxisTicks t = axis_ticks(-1.7, 1.7, 6, true);
  EXPECT_DOUBLE_EQ(t.step, 1);
  EXPECT_DOUBLE_EQ(t.lo, -2);
  EXPECT_DOUBLE_EQ(t.hi, 2);
  EXPECT_EQ(format_tick(-2, 1), "\xE2\x88\x92" "2");
  EXPECT_EQ(format_tick(0, 1), "0");
}

TEST(AxisTicks, InsideTicksStayWithinTheRange) {
  const AxisTicks t = axis_ticks(-1.66, 1.66, 7, false);
  EXPECT_DOUBLE_EQ(t.lo, -1.66);
  for (double v : t.values) {
    EXPECT_GE(v, -1.66);
    EXPECT_LE(v, 1.66);
  }
}

TEST(AxisTicks, DegenerateAndNonFiniteRanges) {
  const AxisTicks zero = axis_ticks(0, 0, 6, true);
  EXPECT_LT(zero.lo, zero.hi);
  const AxisTicks same = axis_ticks(5, 5, 6, true);
  EXPECT_LE(same.lo, 5);
  EXPECT_GE(same.hi, 5);
  EXPECT_LT(same.lo, same.hi);
  const AxisTicks nan = axis_ticks(std::nan(""), 1, 6, true);
  EXPECT_FALSE(nan.values.empty());
  const AxisTicks inf = axis_ticks(0, std::numeric_limits<double>::infinity(), 6, true);
  EXPECT_FALSE(inf.values.empty());
}

TEST(AxisTicks, LabelsHaveJustEnoughDecimals) {
  EXPECT_EQ(format_tick(0.25, 0.25), "0.25");
  EXPECT_EQ(format_tick(1.5, 0.5), "1.5");
  EXPECT_EQ(format_tick(2000, 500), "2000");
  EXPECT_EQ(format_tick(0.0005, 0.0005), "0.0005");
  EXPECT_EQ(format_tick(2e-6, 1e-6), "2e-06");
  EXPECT_EQ(format_tick(3e8, 1e8), "3e+08");
}

}  // namespace
}  // namespace optipfair::detail
