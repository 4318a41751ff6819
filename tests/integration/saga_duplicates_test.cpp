// The saga over a transport that delivers every event twice: every step must change nothing
// the second time (one order, one charge, one reservation, one invoice, one email).
#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/db_query.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

#include <basket/events.hpp>
#include <catalog/module.hpp>
#include <eshop/crypto.hpp>
#include <eshop/outbox.hpp>
#include <ordering/module.hpp>

#include "adapters/file_mail_sender.hpp"
#include "adapters/test_payment_provider.hpp"
#include "adapters/test_shipping_provider.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::eventually;

namespace {

class DuplicatingBus final : public EventBus {
 public:
  explicit DuplicatingBus(EventTelemetry& t) : inner_(make_inprocess_bus(t)) {}
  void publish(const Event& e) override {
    inner_->publish(e);
    inner_->publish(e);
  }
  void subscribe(std::string s, std::string t, Handler h) override { inner_->subscribe(std::move(s), std::move(t), std::move(h)); }
  void expect_subscriber(std::string s, std::string t) override { inner_->expect_subscriber(std::move(s), std::move(t)); }
  void start() override { inner_->start(); }
  void stop() override { inner_->stop(); }
  bool healthy() const override { return true; }
  std::string transport() const override { return "duplicating"; }
  std::vector<Subscription> subscriptions() const override { return inner_->subscriptions(); }

 private:
  std::unique_ptr<EventBus> inner_;
};

struct Shop {
  test::TempDir dir;
  SystemClock clock;
  NoTelemetry telemetry;
  DuplicatingBus bus{telemetry};
  std::unique_ptr<Database> catalog_db = Database::open((dir.path() / "catalog.db").string());
  std::unique_ptr<Database> ordering_db = Database::open((dir.path() / "ordering.db").string());
  std::unique_ptr<Database> ledger = Database::open((dir.path() / "payments.db").string());
  adapters::TestPaymentProvider payments{*ledger};
  adapters::TestShippingProvider shipping;
  adapters::FileMailSender mail{dir.path() / "mail", "shop@example.com"};
  std::unique_ptr<catalog::CatalogModule> catalog;
  std::unique_ptr<Module> ordering;
  std::vector<std::unique_ptr<OutboxRelay>> relays;

  Shop() {
    for (auto* db : {catalog_db.get(), ordering_db.get()}) outbox::install(*db);
    catalog = catalog::make_module({*catalog_db, clock, {}});
    ordering = ordering::make_module({*ordering_db, clock, payments, shipping, mail});
    catalog->subscribe(bus);
    ordering->subscribe(bus);
    bus.start();
    RelayOptions fast;
    fast.min_backoff = std::chrono::milliseconds(5);
    relays.push_back(std::make_unique<OutboxRelay>(*catalog_db, bus, "catalog", telemetry, fast));
    relays.push_back(std::make_unique<OutboxRelay>(*ordering_db, bus, "ordering", telemetry, fast));
    for (auto& r : relays) r->start();
  }
  ~Shop() {
    for (auto& r : relays) r->stop();
  }

  // What basket would publish at checkout, put into ordering's outbox as if basket lived there.
  std::string check_out(std::int64_t product, std::int64_t quantity, const std::string& card = "4242424242424242") {
    const auto token = payments.tokenize({card, "Ann", 12, 2030, "123"}).value();
    basket::events::BasketCheckedOut e;
    e.order_id = OrderId{crypto::new_uuid()};
    e.user_id = UserId{"user-1"};
    e.buyer_email = "ann@example.com";
    e.buyer_name = "Ann";
    const auto price = catalog->api().find_product(ProductId{product})->price;
    e.lines = {{ProductId{product}, "Product", price, quantity, price * quantity}};
    e.subtotal = e.total = price * quantity;
    e.currency = "USD";
    e.shipping_address = {"Ann Lee", "1 Main St", "Springfield", "12345", "US"};
    e.payment_token = token.token;
    e.card_brand = token.brand;
    e.last4 = token.last4;
    e.checked_out_at = to_rfc3339(clock.now());
    ordering_db->write([&](Tx& tx) {
      outbox::enqueue(tx, new_event(std::string(e.kType), "basket", e, "test", clock));
    });
    return e.order_id.value;
  }

  bool settled() {
    return std::all_of(relays.begin(), relays.end(), [](auto& r) { return r->backlog() == 0; });
  }
  std::string status_and_timeline(const std::string& order_id) {
    return ordering_db->read([&](Tx& tx) {
      std::string status, events;
      auto& s = tx.statement("SELECT status FROM orders WHERE id = ?1");
      s.bind(1, order_id);
      if (s.next()) status = s.text(0);
      auto& q = tx.statement("SELECT event FROM order_timeline WHERE order_id = ?1 ORDER BY seq");
      q.bind(1, order_id);
      while (q.next()) events += " " + q.text(0);
      return status + ":" + events;
    });
  }
  std::int64_t ledger_count(const std::string& where) {
    return ledger->read([&](Tx& tx) {
      return test::scalar(tx, "SELECT COUNT(*) FROM charges WHERE " + where);
    });
  }
};

}  // namespace

TEST_CASE("every step of a completed order tolerates a duplicate delivery", "[ordering][integration]") {
  Shop shop;
  const auto id = shop.check_out(1, 2);
  REQUIRE(eventually([&] {
    return shop.status_and_timeline(id).find("confirmation_sent") != std::string::npos && shop.settled();
  }));
  CHECK(shop.status_and_timeline(id) ==
        "completed: submitted paid stock_confirmed shipped invoiced completed confirmation_sent");
  CHECK(shop.catalog->api().find_product(ProductId{1})->available_stock == 40);
  CHECK(shop.ledger_count("approved = 1") == 1);
  CHECK(std::filesystem::exists(shop.dir.path() / "mail" / (id + ".eml")));
  const auto invoices = shop.ordering_db->read([](Tx& tx) { return test::scalar(tx, "SELECT last FROM invoice_counters"); });
  CHECK(invoices == 1);
}

TEST_CASE("the out-of-stock path tolerates duplicates: one refund, nothing decremented", "[ordering][integration]") {
  Shop shop;
  const auto id = shop.check_out(7, 7);  // 6 in stock
  REQUIRE(eventually([&] {
    return shop.status_and_timeline(id).find("payment_refunded") != std::string::npos && shop.settled();
  }));
  CHECK(shop.status_and_timeline(id) == "cancelled: submitted paid out_of_stock payment_refunded");
  CHECK(shop.catalog->api().find_product(ProductId{7})->available_stock == 6);
  CHECK(shop.ledger_count("refunded = 1") == 1);
  CHECK(shop.ledger_count("1 = 1") == 1);
}

TEST_CASE("a declined card with duplicates charges nothing and cancels once", "[ordering][integration]") {
  Shop shop;
  const auto id = shop.check_out(1, 1, adapters::kDeclinedTestCard);
  REQUIRE(eventually([&] { return shop.status_and_timeline(id).starts_with("cancelled") && shop.settled(); }));
  CHECK(shop.status_and_timeline(id) == "cancelled: submitted payment_declined");
  CHECK(shop.ledger_count("approved = 1") == 0);
}
