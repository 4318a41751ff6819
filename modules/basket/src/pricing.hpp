#pragma once
// How a basket is priced: line totals, subtotal, the coupon's discount, total. No I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <discount/api.hpp>
#include <eshop/ids.hpp>
#include <eshop/money.hpp>

namespace eshop::basket {

inline constexpr std::int64_t kMaxLineQuantity = 10'000;

struct Line {
  ProductId product_id;
  std::string name;
  Money unit_price;
  std::int64_t quantity = 0;
  std::int64_t available_stock = 0;
  std::string image_url{};  // empty: none
};

struct AppliedCoupon {
  std::string code;
  std::string description;
  Money discount;
};

struct PricedBasket {
  std::vector<Line> lines;
  std::int64_t item_count = 0;
  Money subtotal;
  std::optional<AppliedCoupon> coupon;  // only when it applies now
  Money discount;
  Money total;
};

Money subtotal_of(const std::vector<Line>& lines);
bool has_product(const std::vector<Line>& lines, ProductId id);

// Prices `lines`; a coupon that does not apply now (expired, minimum not met, product
// absent) contributes nothing and is left out.
PricedBasket price(std::vector<Line> lines, const std::optional<discount::CouponTerms>& coupon, TimePoint now);

}  // namespace eshop::basket
