// Integers read from JSON files someone else wrote. nlohmann's get<int64_t>() casts whatever number
// it finds, and casting 1e300 (or NaN) to an integer is undefined behaviour, so every reader of an
// integer field goes through this check.
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace optipfair {

// The value as int64 when it is exactly one: a JSON integer within int64, or a float with no
// fraction inside (-2^63, 2^63). nullopt for anything else, numbers or not.
template <typename Json>
std::optional<int64_t> json_exact_int64(const Json& v) {
  if (v.is_number_unsigned()) {
    if (v.template get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(v.template get<uint64_t>());
  }
  if (v.is_number_integer()) return v.template get<int64_t>();
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.template get<double>();
  // 2^63 is exactly representable; anything at or above it, NaN and fractions do not fit.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d)) return std::nullopt;
  return static_cast<int64_t>(d);
}

}  // namespace optipfair
