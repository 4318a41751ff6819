#pragma once
// Whole numbers from JSON that someone else wrote: a request body, an event, a peer's answer.
// nlohmann's get<std::int64_t>() converts a float such as 4e77 without a range check, which is
// undefined behaviour (found by fuzzing the JSON bodies and the event envelopes).
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace eshop {

// An integer that fits int64, or a float with no fraction within ±9e15; nullopt for anything else.
inline std::optional<std::int64_t> as_whole_number(const nlohmann::json& j) {
  if (j.is_number_unsigned())
    return j.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::optional<std::int64_t>(static_cast<std::int64_t>(j.get<std::uint64_t>()))
               : std::nullopt;
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (d > -9e15 && d < 9e15 && d == std::trunc(d)) return static_cast<std::int64_t>(d);  // in range first
  }
  return std::nullopt;
}

// The same, throwing std::invalid_argument (an event that fails to decode is retried, then dead-lettered).
inline std::int64_t whole_number(const nlohmann::json& j) {
  if (const auto n = as_whole_number(j)) return *n;
  throw std::invalid_argument("not a whole number: " + j.dump().substr(0, 40));
}

}  // namespace eshop
