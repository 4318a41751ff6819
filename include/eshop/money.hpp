#pragma once
// Money is an integer number of minor units (cents); arithmetic never touches floating point.
#include <compare>
#include <cstdint>

namespace eshop {

class Money final {
 public:
  constexpr Money() = default;
  static constexpr Money cents(std::int64_t c) { return Money(c); }
  constexpr std::int64_t in_cents() const { return cents_; }

  constexpr Money operator+(Money o) const { return Money(cents_ + o.cents_); }
  constexpr Money operator-(Money o) const { return Money(cents_ - o.cents_); }
  constexpr Money operator*(std::int64_t n) const { return Money(cents_ * n); }
  constexpr Money& operator+=(Money o) { cents_ += o.cents_; return *this; }
  constexpr auto operator<=>(const Money&) const = default;

  // `percent` percent of this amount, rounded half up to the cent (amount >= 0).
  constexpr Money percent(std::int64_t percent) const { return Money((cents_ * percent + 50) / 100); }

 private:
  constexpr explicit Money(std::int64_t c) : cents_(c) {}
  std::int64_t cents_ = 0;
};

constexpr Money min(Money a, Money b) { return a < b ? a : b; }

}  // namespace eshop
