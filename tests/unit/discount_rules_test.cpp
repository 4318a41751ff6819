// Coupon arithmetic and the rules for when a coupon applies, with an injected clock.
#include <catch2/catch.hpp>

#include <discount/api.hpp>

#include "basket/src/pricing.hpp"
#include "discount/src/service.hpp"

using namespace eshop;
using namespace eshop::discount;
using eshop::basket::Line;

namespace {

CouponTerms percent(std::int64_t value) {
  CouponTerms c;
  c.code = "P";
  c.type = CouponType::percent;
  c.value = value;
  return c;
}

CouponTerms fixed(std::int64_t cents) {
  CouponTerms c = percent(0);
  c.type = CouponType::fixed;
  c.value = cents;
  return c;
}

TimePoint at(const char* text) { return *parse_rfc3339(text); }

std::vector<Line> lines() {
  return {{ProductId{1}, "Shoe", Money::cents(1995), 1, 10}, {ProductId{2}, "Sock", Money::cents(500), 2, 10}};
}

}  // namespace

TEST_CASE("a percent coupon rounds half up to the cent", "[discount][unit]") {
  CHECK(discount_on(percent(10), Money::cents(1995)) == Money::cents(200));  // 199.5
  CHECK(discount_on(percent(10), Money::cents(1994)) == Money::cents(199));  // 199.4
  CHECK(discount_on(percent(15), Money::cents(333)) == Money::cents(50));    // 49.95
  CHECK(discount_on(percent(100), Money::cents(2999)) == Money::cents(2999));
}

TEST_CASE("a fixed coupon is capped at the eligible amount", "[discount][unit]") {
  CHECK(discount_on(fixed(500), Money::cents(2000)) == Money::cents(500));
  CHECK(discount_on(fixed(5000), Money::cents(2000)) == Money::cents(2000));
}

TEST_CASE("a coupon applies only inside its validity window", "[discount][unit]") {
  auto c = percent(10);
  c.valid_from = at("2026-11-27T00:00:00Z");
  c.valid_until = at("2026-11-30T23:59:59Z");
  ManualClock clock(at("2026-11-26T23:59:59Z"));
  CHECK(refusal(c, Money::cents(100), false, clock.now()) == "The coupon is not valid yet.");
  clock.advance(std::chrono::seconds(1));
  CHECK_FALSE(refusal(c, Money::cents(100), false, clock.now()));
  clock.set(at("2026-11-30T23:59:59Z"));
  CHECK_FALSE(refusal(c, Money::cents(100), false, clock.now()));
  clock.advance(std::chrono::seconds(1));
  CHECK(refusal(c, Money::cents(100), false, clock.now()) == "The coupon has expired.");
}

TEST_CASE("a coupon's minimum subtotal is inclusive", "[discount][unit]") {
  auto c = fixed(2000);
  c.min_subtotal = Money::cents(10000);
  const auto now = at("2026-11-24T10:00:00Z");
  CHECK(refusal(c, Money::cents(9999), false, now) == "The coupon needs a subtotal of at least 100.00.");
  CHECK_FALSE(refusal(c, Money::cents(10000), false, now));
  c.min_subtotal = Money::cents(5005);
  CHECK(refusal(c, Money::cents(1), false, now) == "The coupon needs a subtotal of at least 50.05.");
}

TEST_CASE("a product coupon discounts only that product's line", "[discount][unit]") {
  auto c = percent(50);
  c.product_id = ProductId{2};
  const auto b = basket::price(lines(), c, at("2026-11-24T10:00:00Z"));
  CHECK(b.subtotal == Money::cents(2995));
  CHECK(b.discount == Money::cents(500));  // half of 2 x 5.00
  CHECK(b.total == Money::cents(2495));
  c.product_id = ProductId{3};
  const auto absent = basket::price(lines(), c, at("2026-11-24T10:00:00Z"));
  CHECK_FALSE(absent.coupon);
  CHECK(absent.discount == Money::cents(0));
}

TEST_CASE("a basket without a coupon totals its lines", "[basket][unit]") {
  const auto b = basket::price(lines(), std::nullopt, at("2026-11-24T10:00:00Z"));
  CHECK(b.item_count == 3);
  CHECK(b.subtotal == Money::cents(2995));
  CHECK(b.total == Money::cents(2995));
  CHECK_FALSE(b.coupon);
}

TEST_CASE("coupon input is validated field by field", "[discount][unit]") {
  CouponFields f;
  f.code = " summer-26 ";
  f.type = "fixed";
  f.value = 0;
  const auto r = apply_fields({}, f, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().fields == FieldErrors{{"value", {"must be a whole number of cents from 1 to 1000000000"}}});
  f.value = 250;
  CHECK(apply_fields({}, f, true)->code == "SUMMER-26");
}
