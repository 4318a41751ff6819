// basket's materialized view, fed by catalog's events through its inbox.
#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/test_database.hpp"

#include <span>

#include <basket/module.hpp>
#include <catalog/events.hpp>
#include <eshop/outbox.hpp>

#include "adapters/test_payment_provider.hpp"
#include "basket/src/store.hpp"

using namespace eshop;

namespace {

class NoCatalog final : public catalog::Api {
 public:
  Result<catalog::ProductView> find_product(ProductId) const override { return fail(Error::not_found("none")); }
};
class NoDiscount final : public discount::Api {
 public:
  Result<discount::CouponTerms> find_coupon(const std::string&) const override { return fail(Error::not_found("none")); }
};

Event price_changed(const std::string& id, std::int64_t from, std::int64_t to) {
  const catalog::events::ProductPriceChanged e{ProductId{1}, Money::cents(from), Money::cents(to)};
  return {id, std::string(e.kType), "catalog", std::chrono::system_clock::now(), "req", e};
}

}  // namespace

TEST_CASE("a redelivered price change does not undo a later one", "[basket][unit][store]") {
  auto db = test::open_test_database("basket");
  outbox::install(*db);
  SystemClock clock;
  NoCatalog catalog;
  NoDiscount discounts;
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  auto ledger = Database::open(":memory:");
  adapters::TestPaymentProvider payments(*ledger);
  auto module = basket::make_module({*db, clock, catalog, discounts, payments, {}});
  module->subscribe(*bus);
  bus->start();
  db->write([](Tx& tx) {
    basket::store::upsert_line(tx, "ann", {ProductId{1}, "Shoe", Money::cents(4000), 1, 5}, "2026-11-24T10:00:00Z");
  });
  auto unit_price = [&] {
    return db->read([](Tx& tx) { return basket::store::lines(tx, "ann").at(0).unit_price; });
  };
  bus->publish(price_changed("first", 4000, 5000));
  CHECK(unit_price() == Money::cents(5000));
  bus->publish(price_changed("second", 5000, 6000));
  bus->publish(price_changed("first", 4000, 5000));  // the transport delivers "first" again
  CHECK(unit_price() == Money::cents(6000));
  const auto handled = db->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM inbox"); });
  CHECK(handled == 2);
}

namespace eshop::basket {
std::span<const Migration> migrations();
}

TEST_CASE("migration 003 moves product facts out of basket lines without losing a basket", "[basket][unit][store]") {
  auto db = test::open_test_database("basket");
  const auto all = basket::migrations();
  REQUIRE(all.size() >= 3);
  db->migrate(all.first(2));
  db->write([](Tx& tx) {
    tx.execute("INSERT INTO basket_items(user_id, product_id, name, unit_price, available_stock, quantity, added_at) "
               "VALUES('ann', 7, 'Boot', 42999, 6, 2, '2026-11-24T10:00:00Z')");
    tx.execute("INSERT INTO basket_items(user_id, product_id, name, unit_price, available_stock, quantity, added_at) "
               "VALUES('bob', 7, 'Boot', 42999, 6, 1, '2026-11-24T10:00:01Z')");
  });
  db->migrate(all);
  const auto lines = db->read([](Tx& tx) { return basket::store::lines(tx, "ann"); });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].name == "Boot");
  CHECK(lines[0].unit_price == Money::cents(42999));
  CHECK(lines[0].quantity == 2);
  CHECK(lines[0].available_stock == 6);
  db->write([](Tx& tx) { basket::store::update_price(tx, ProductId{7}, Money::cents(39999)); });
  CHECK(db->read([](Tx& tx) { return basket::store::lines(tx, "bob"); }).at(0).unit_price ==
        Money::cents(39999));
}
