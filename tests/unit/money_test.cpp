#include <catch2/catch.hpp>

#include <eshop/money.hpp>

using eshop::Money;

TEST_CASE("a percent of an amount rounds half up to the cent", "[kernel][unit]") {
  CHECK(Money::cents(1995).percent(10) == Money::cents(200));  // 199.5 -> 200
  CHECK(Money::cents(1994).percent(10) == Money::cents(199));  // 199.4 -> 199
  CHECK(Money::cents(1).percent(50) == Money::cents(1));       // 0.5 -> 1
  CHECK(Money::cents(1000).percent(100) == Money::cents(1000));
  CHECK(Money::cents(0).percent(15) == Money::cents(0));
}

TEST_CASE("money adds, subtracts and multiplies in whole cents", "[kernel][unit]") {
  CHECK((Money::cents(1999) * 3).in_cents() == 5997);
  CHECK((Money::cents(1999) + Money::cents(1)).in_cents() == 2000);
  CHECK((Money::cents(500) - Money::cents(501)).in_cents() == -1);
  CHECK(eshop::min(Money::cents(3), Money::cents(2)) == Money::cents(2));
}
