#include "pricing.hpp"

#include <algorithm>

namespace eshop::basket {

Money subtotal_of(const std::vector<Line>& lines) {
  Money sum;
  for (const auto& l : lines) sum += l.unit_price * l.quantity;
  return sum;
}

bool has_product(const std::vector<Line>& lines, ProductId id) {
  return std::any_of(lines.begin(), lines.end(), [&](const Line& l) { return l.product_id == id; });
}

PricedBasket price(std::vector<Line> lines, const std::optional<discount::CouponTerms>& coupon, TimePoint now) {
  PricedBasket b;
  b.subtotal = subtotal_of(lines);
  for (const auto& l : lines) b.item_count += l.quantity;
  if (coupon) {
    const bool eligible_line = coupon->product_id && has_product(lines, *coupon->product_id);
    if (!discount::refusal(*coupon, b.subtotal, eligible_line, now)) {
      Money eligible = b.subtotal;
      if (coupon->product_id) {
        const auto it = std::find_if(lines.begin(), lines.end(),
                                     [&](const Line& l) { return l.product_id == *coupon->product_id; });
        eligible = it->unit_price * it->quantity;
      }
      b.discount = discount::discount_on(*coupon, eligible);
      b.coupon = AppliedCoupon{coupon->code, coupon->description, b.discount};
    }
  }
  b.total = b.subtotal - b.discount;
  b.lines = std::move(lines);
  return b;
}

}  // namespace eshop::basket
