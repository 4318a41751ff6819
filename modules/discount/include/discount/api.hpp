#pragma once
// discount's public face: a coupon's current terms, and the one rule for what it takes off.
#include <cstdint>
#include <optional>
#include <string>

#include <eshop/clock.hpp>
#include <eshop/error.hpp>
#include <eshop/ids.hpp>
#include <eshop/money.hpp>

namespace eshop::discount {

enum class CouponType { percent, fixed };

struct CouponTerms {
  std::string code;  // upper case; codes compare case-insensitively
  std::string description;
  CouponType type = CouponType::percent;
  std::int64_t value = 0;  // percent: 1-100; fixed: cents
  Money min_subtotal;
  std::optional<TimePoint> valid_from;
  std::optional<TimePoint> valid_until;
  std::optional<ProductId> product_id;  // set: only that product's line is eligible
};

class Api {
 public:
  virtual ~Api() = default;
  // The coupon's current terms (case-insensitive code); not_found if there is none.
  virtual Result<CouponTerms> find_coupon(const std::string& code) const = 0;
};

// Why a coupon does not apply now, or nullopt when it does.
inline std::optional<std::string> refusal(const CouponTerms& c, Money subtotal, bool has_eligible_line, TimePoint now) {
  if (c.valid_from && now < *c.valid_from) return "The coupon is not valid yet.";
  if (c.valid_until && now > *c.valid_until) return "The coupon has expired.";
  if (subtotal < c.min_subtotal) {
    const auto cents = c.min_subtotal.in_cents();
    return "The coupon needs a subtotal of at least " + std::to_string(cents / 100) + "." +
           (cents % 100 < 10 ? "0" : "") + std::to_string(cents % 100) + ".";
  }
  if (c.product_id && !has_eligible_line) return "The coupon applies to a product that is not in the basket.";
  return std::nullopt;
}

// What the coupon takes off `eligible` (the subtotal, or the product's line total):
// percent rounds half up to the cent; fixed is capped at the eligible amount.
inline Money discount_on(const CouponTerms& c, Money eligible) {
  if (c.type == CouponType::percent) return eligible.percent(c.value);
  return min(Money::cents(c.value), eligible);
}

}  // namespace eshop::discount
