// Every module's store on the engine under test: SQLite here, PostgreSQL when the test run names a
// server (ESHOP_TEST_POSTGRES_URL_FILE; ctest's "unit/postgresql" entry). Exact values, both ways.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include <eshop/clock.hpp>
#include <eshop/outbox.hpp>

#include "basket/src/store.hpp"
#include "catalog/src/store.hpp"
#include "discount/src/service.hpp"
#include "identity/src/store.hpp"
#include "ordering/src/store.hpp"
#include "support/db_query.hpp"
#include "support/eventually.hpp"
#include "support/test_database.hpp"

namespace eshop::basket {
std::span<const Migration> migrations();
}
namespace eshop::catalog {
std::span<const Migration> migrations();
}
namespace eshop::discount {
std::span<const Migration> migrations();
}
namespace eshop::identity {
std::span<const Migration> migrations();
}
namespace eshop::ordering {
std::span<const Migration> migrations();
}

using namespace eshop;

namespace {

test::TestDatabase migrated(const std::string& module, std::span<const Migration> migrations) {
  auto db = test::open_test_database(module);
  db->migrate(migrations);
  outbox::install(*db);
  return db;
}

const char* engine_name() { return test::on_postgres() ? "postgresql" : "sqlite"; }

// Every one of `keys` keys received 0, 1, ..., events - 1, in that order, each once.
void check_each_key_in_order(const std::map<std::string, std::vector<int>>& by_key, std::size_t keys, int events) {
  std::vector<int> expected(static_cast<std::size_t>(events));
  for (int i = 0; i < events; ++i) expected[static_cast<std::size_t>(i)] = i;
  REQUIRE(by_key.size() == keys);
  for (const auto& [key, ns] : by_key) {
    INFO(key);
    CHECK(ns == expected);
  }
}

}  // namespace

TEST_CASE("statements bind integers, text and NULL, and read them back", "[store][unit]") {
  INFO(engine_name());
  auto db = test::open_test_database("kernel");
  db->write([](Tx& tx) { tx.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, size BIGINT)"); });
  const char* insert = "INSERT INTO t(id, name, size) VALUES(?1, ?2, ?3)";
  db->write([&](Tx& tx) {
    CHECK(tx.statement(insert).bind(1, 1).bind(2, "one").bind(3, std::int64_t{9'000'000'000}).run() == 1);
    CHECK(tx.statement(insert).bind(1, 2).bind(2, std::optional<std::string>{}).bind(3, std::optional<std::int64_t>{}).run() == 1);
    CHECK(tx.statement("INSERT INTO t(id, name) VALUES(?1, ?2) ON CONFLICT DO NOTHING").bind(1, 1).bind(2, "x").run() == 0);
  });
  db->read([](Tx& tx) {
    auto& q = tx.statement("SELECT id, name, size FROM t ORDER BY id");
    REQUIRE(q.next());
    CHECK(q.int64(0) == 1);
    CHECK(q.text(1) == "one");
    CHECK(q.int64(2) == 9'000'000'000);
    REQUIRE(q.next());
    CHECK(q.text_or_null(1) == std::nullopt);
    CHECK(q.int64_or_null(2) == std::nullopt);
    CHECK_FALSE(q.next());
    CHECK(&q == &tx.statement("SELECT id, name, size FROM t ORDER BY id"));  // prepared once, kept
  });
  CHECK_THROWS(db->write([](Tx& tx) {
    tx.statement("UPDATE t SET size = 5 WHERE id = ?1").bind(1, 1).run();
    throw std::runtime_error("changed my mind");
  }));
  CHECK(db->read([](Tx& tx) { return test::scalar(tx, "SELECT size FROM t WHERE id = 1"); }) == 9'000'000'000);
  CHECK(db->ping());
}

TEST_CASE("concurrent read-modify-write transactions lose no update", "[store][unit]") {
  INFO(engine_name());
  auto db = test::open_test_database("kernel");
  db->write([](Tx& tx) { tx.execute("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0)"); });
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w)
    writers.emplace_back([&] {
      for (int i = 0; i < 40; ++i)
        db->write([](Tx& tx) {  // read, then write what was read plus one: a lost update shows
          const auto n = test::scalar(tx, "SELECT n FROM counter WHERE id = 1");
          tx.statement("UPDATE counter SET n = ?1 WHERE id = 1").bind(1, n + 1).run();
        });
    });
  for (auto& t : writers) t.join();
  CHECK(db->read([](Tx& tx) { return test::scalar(tx, "SELECT n FROM counter WHERE id = 1"); }) == 240);
}

TEST_CASE("events written by concurrent transactions all reach the bus once, in order per key", "[store][unit][outbox]") {
  INFO(engine_name());
  auto db = test::open_test_database("catalog");
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::mutex m;
  std::map<std::string, std::vector<int>> by_key;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) {
    std::lock_guard lock(m);
    by_key[e.key].push_back(e.payload.at("n").get<int>());
  });
  bus->start();
  RelayOptions options;
  options.poll_interval = std::chrono::milliseconds(20);
  OutboxRelay relay(*db, *bus, "catalog", telemetry, options);
  relay.start();
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i)
        db->write([&](Tx& tx) {
          const std::string key = "key-" + std::to_string(w);
          outbox::enqueue(tx, {"ev-" + std::to_string(w) + "-" + std::to_string(i), "test.happened.v1", "catalog",
                               std::chrono::system_clock::now(), "req", nlohmann::json{{"n", i}}, key});
        });
    });
  for (auto& t : writers) t.join();
  REQUIRE(test::eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  std::lock_guard lock(m);
  check_each_key_in_order(by_key, 4, 50);
}

TEST_CASE("ordering's store: orders, their history, the saga's compare-and-set, invoice numbers", "[store][unit]") {
  INFO(engine_name());
  using ordering::OrderStatus;
  auto db = migrated("ordering", ordering::migrations());
  const OrderId o1{"o-1"};
  const UserId u1{"u-1"};
  ordering::Order o;
  o.id = o1;
  o.user_id = u1;
  o.buyer_email = "ann@example.com";
  o.buyer_name = "Ann";
  o.status = OrderStatus::submitted;
  o.created_at = o.updated_at = "2026-11-26T10:00:00Z";
  o.item_count = 3;
  o.subtotal = Money::cents(3000);
  o.total = Money::cents(3000);
  o.currency = "USD";
  o.address = {"Ann", "1 Main St", "Springfield", "12345", "US"};
  o.payment_token = "tok";
  o.card_brand = "visa";
  o.last4 = "4242";
  o.items = {{ProductId{7}, "Boot", Money::cents(1000), 2, Money::cents(2000), "/b.svg"},
             {ProductId{3}, "Sock", Money::cents(1000), 1, Money::cents(1000), ""}};
  CHECK(db->write([&](Tx& tx) { return ordering::store::insert(tx, o); }));
  CHECK_FALSE(db->write([&](Tx& tx) { return ordering::store::insert(tx, o); }));  // one order per id
  auto second = o;
  second.id = OrderId{"o-2"};
  second.created_at = "2026-11-26T11:00:00Z";
  second.items = {{ProductId{3}, "Sock", Money::cents(1000), 1, Money::cents(1000), ""}};
  db->write([&](Tx& tx) { ordering::store::insert(tx, second); });

  db->write([&](Tx& tx) {
    CHECK(ordering::store::transition(tx, o1, OrderStatus::submitted, OrderStatus::paid, std::nullopt,
                                      "2026-11-26T10:00:01Z"));
    CHECK_FALSE(ordering::store::transition(tx, o1, OrderStatus::submitted, OrderStatus::cancelled, "late",
                                            "2026-11-26T10:00:02Z"));
    ordering::store::append(tx, o1, OrderStatus::paid, "2026-11-26T10:00:01Z");
    ordering::store::set_charge(tx, o1, "ch_1");
    ordering::store::set_tracking_number(tx, o1, "TRK-1");
    CHECK(ordering::store::next_invoice_number(tx, 2026) == "INV-2026-000001");
    CHECK(ordering::store::next_invoice_number(tx, 2026) == "INV-2026-000002");
    CHECK(ordering::store::next_invoice_number(tx, 2027) == "INV-2027-000001");
  });
  const auto found = db->read([&](Tx& tx) { return ordering::store::find(tx, o1); });
  REQUIRE(found);
  CHECK(found->status == OrderStatus::paid);
  CHECK(found->charge_id == std::optional<std::string>("ch_1"));
  CHECK(found->tracking_number == std::optional<std::string>("TRK-1"));
  CHECK(found->invoice_number == std::nullopt);
  CHECK_FALSE(found->refunded);
  CHECK(found->subtotal == Money::cents(3000));
  CHECK(found->coupon_code == std::nullopt);
  REQUIRE(found->items.size() == 2);
  CHECK(found->items[0].product_id == ProductId{7});  // in the order they were written
  CHECK(found->items[0].line_total == Money::cents(2000));
  CHECK(found->items[0].image_url == "/b.svg");
  CHECK(found->items[1].name == "Sock");
  REQUIRE(found->timeline.size() == 1);
  CHECK(found->timeline[0].event == "paid");
  db->write([&](Tx& tx) { ordering::store::set_refunded(tx, o1); });
  CHECK(db->read([&](Tx& tx) { return ordering::store::find(tx, o1); })->refunded);
  const auto [count, page] = db->read([&](Tx& tx) {
    return std::make_pair(ordering::store::count(tx, u1), ordering::store::list(tx, u1, 10, 0));
  });
  CHECK(count == 2);
  REQUIRE(page.size() == 2);
  CHECK(page[0].id == OrderId{"o-2"});  // newest first
  CHECK(page[0].status == OrderStatus::submitted);
  CHECK(page[1].status == OrderStatus::paid);
  CHECK(page[1].total == Money::cents(3000));
  CHECK(page[1].item_count == 3);
  CHECK(db->read([&](Tx& tx) { return ordering::store::list(tx, u1, 10, 1); }).size() == 1);
  // A status the code does not know (a newer build wrote it) is an error, not a guess.
  db->write([](Tx& tx) { tx.statement("UPDATE orders SET status = 'teleported' WHERE id = 'o-2'").run(); });
  CHECK_THROWS_WITH(db->read([](Tx& tx) { return ordering::store::find(tx, OrderId{"o-2"}); }),
                    "order o-2 has an unknown status 'teleported'");
}

TEST_CASE("an order's status: every state has one stored name, and a name reads back as its state", "[unit]") {
  using ordering::OrderStatus;
  CHECK(ordering::name_of(OrderStatus::submitted) == "submitted");
  CHECK(ordering::name_of(OrderStatus::paid) == "paid");
  CHECK(ordering::name_of(OrderStatus::stock_confirmed) == "stock_confirmed");
  CHECK(ordering::name_of(OrderStatus::shipped) == "shipped");
  CHECK(ordering::name_of(OrderStatus::completed) == "completed");
  CHECK(ordering::name_of(OrderStatus::cancelled) == "cancelled");
  for (const auto s : ordering::kAllStatuses) CHECK(ordering::status_named(ordering::name_of(s)) == s);
  CHECK(ordering::status_named("Paid") == std::nullopt);
  CHECK(ordering::status_named("") == std::nullopt);
}

TEST_CASE("catalog's stock: taken only while there is enough, given back, reservations released once", "[store][unit]") {
  INFO(engine_name());
  auto db = migrated("catalog", catalog::migrations());
  catalog::CatalogStore store(*db);
  catalog::Product p;
  p.name = "Boot";
  p.price = 4200;
  p.available_stock = 0;
  p.created_at = p.updated_at = "2026-11-26T10:00:00Z";
  db->write([](Tx& tx) {
    tx.execute("INSERT INTO brands(id, name) VALUES (1, 'Acme'); INSERT INTO categories(id, name) VALUES (1, 'Shoes')");
  });
  p.brand_id = p.category_id = 1;
  const auto first = store.insert(p);
  const auto second = store.insert(p);
  CHECK(second.id == first.id + 1);
  db->write([&](Tx& tx) { tx.statement("UPDATE products SET available_stock = 30 WHERE id = ?1").bind(1, first.id).run(); });
  // 8 buyers race for 30 units, 2 at a time: exactly 15 takes succeed, none oversells.
  std::atomic<int> taken{0};
  std::vector<std::thread> buyers;
  for (int b = 0; b < 8; ++b)
    buyers.emplace_back([&] {
      for (int i = 0; i < 5; ++i)
        if (db->write([&](Tx& tx) { return catalog::stock::take(tx, first.id, 2, "2026-11-26T10:00:01Z"); })) ++taken;
    });
  for (auto& t : buyers) t.join();
  CHECK(taken == 15);
  db->write([&](Tx& tx) {
    CHECK(catalog::stock::find(tx, first.id)->available_stock == 0);
    catalog::stock::record_reservation(tx, "r-1", first.id, 2, "2026-11-26T10:00:02Z");
    catalog::stock::record_reservation(tx, "r-1", second.id, 1, "2026-11-26T10:00:02Z");
  });
  const auto lines = db->write([](Tx& tx) { return catalog::stock::release(tx, "r-1"); });
  CHECK(lines == std::vector<std::pair<std::int64_t, std::int64_t>>{{first.id, 2}, {second.id, 1}});
  CHECK(db->write([](Tx& tx) { return catalog::stock::release(tx, "r-1"); }).empty());  // released once
  db->write([&](Tx& tx) { catalog::stock::give_back(tx, first.id, 2, "2026-11-26T10:00:03Z"); });
  const auto all = store.load_all();
  REQUIRE(all.products.size() == 2);
  CHECK(all.products[0].available_stock == 2);
  CHECK(all.brands.at(1).name == "Acme");
  CHECK(store.remove(second.id, {}));
  CHECK_FALSE(store.remove(second.id, {}));
}

TEST_CASE("basket's store: lines, quantities capped by stock, coupon, clearing", "[store][unit]") {
  INFO(engine_name());
  auto db = migrated("basket", basket::migrations());
  const std::string now = "2026-11-26T10:00:00Z";
  db->write([&](Tx& tx) {
    basket::store::upsert_line(tx, "ann", {ProductId{7}, "Boot", Money::cents(4200), 2, 5, "/b.svg"}, now);
    CHECK(basket::store::add_quantity(tx, "ann", ProductId{7}, 2, 5, now));
    CHECK(basket::store::add_quantity(tx, "ann", ProductId{7}, 9, 5, now));  // capped at the stock
    CHECK_FALSE(basket::store::add_quantity(tx, "ann", ProductId{8}, 1, 5, now));  // a product the view lacks
    basket::store::set_coupon(tx, "ann", "SAVE10", now);
  });
  db->read([](Tx& tx) {
    const auto lines = basket::store::lines(tx, "ann");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].quantity == 5);
    CHECK(lines[0].unit_price == Money::cents(4200));
    CHECK(lines[0].image_url == "/b.svg");
    CHECK(basket::store::quantity_of(tx, "ann", ProductId{7}) == 5);
    CHECK(basket::store::coupon_code(tx, "ann") == std::optional<std::string>("SAVE10"));
  });
  db->write([](Tx& tx) {
    basket::store::update_product(tx, ProductId{7}, "Boot II", Money::cents(5000), 3, "/b2.svg");
    basket::store::update_price(tx, ProductId{7}, Money::cents(5100));
  });
  CHECK(db->read([](Tx& tx) { return basket::store::lines(tx, "ann"); }).at(0).unit_price == Money::cents(5100));
  db->write([](Tx& tx) { basket::store::clear(tx, "ann"); });
  db->read([](Tx& tx) {
    CHECK(basket::store::lines(tx, "ann").empty());
    CHECK(basket::store::coupon_code(tx, "ann") == std::nullopt);
  });
}

TEST_CASE("identity's store: users by email whatever its case, sessions", "[store][unit]") {
  INFO(engine_name());
  auto db = migrated("identity", identity::migrations());
  identity::UserStore users(*db);
  identity::UserRecord u{"u-1", "ann@example.com", "Ann", "hash", {"customer"}, "2026-11-26T10:00:00Z", "registration"};
  CHECK(users.insert(u));
  auto twin = u;
  twin.id = "u-2";
  twin.email = "ANN@example.com";
  CHECK_FALSE(users.insert(twin));  // one account per address, whatever its case
  CHECK(users.find_by_email("Ann@Example.com")->id == "u-1");
  users.insert_session({"h-1", "u-1", 100}, "2026-11-26T10:00:00Z");
  users.insert_session({"h-2", "u-1", 300}, "2026-11-26T10:00:00Z");
  const auto live = users.live_sessions(200);
  REQUIRE(live.size() == 1);
  CHECK(live[0].token_hash == "h-2");
  u.roles = {"customer", "admin"};
  users.update_and_revoke_sessions(u);
  CHECK(users.live_sessions(200).empty());
  CHECK(users.find_by_id("u-1")->roles == std::vector<std::string>{"customer", "admin"});
}

TEST_CASE("discount's coupons: created, found, listed, changed and removed", "[store][unit]") {
  INFO(engine_name());
  auto db = migrated("discount", discount::migrations());
  ManualClock clock{*parse_rfc3339("2026-11-26T10:00:00Z")};
  discount::DiscountService service(*db, clock, {.load_demo_data = false});
  discount::CouponFields f;
  f.code = "save10";
  f.type = "percent";
  f.value = 10;
  f.valid_until = "2026-12-31T23:59:59Z";
  REQUIRE(service.create(f));
  CHECK_FALSE(service.create(f));  // the code is taken
  const auto found = service.find_coupon("SAVE10");
  REQUIRE(found);
  CHECK(found->value == 10);
  CHECK(found->valid_from == std::nullopt);
  CHECK(found->valid_until == parse_rfc3339("2026-12-31T23:59:59Z"));
  discount::CouponFields change;
  change.product_id = 7;
  REQUIRE(service.update("SAVE10", change));
  CHECK(service.find_coupon("save10")->product_id == ProductId{7});
  CHECK(service.list().size() == 1);
  CHECK(service.remove("SAVE10"));
  CHECK_FALSE(service.remove("SAVE10"));
}

TEST_CASE("two relays on one outbox: one delivers at a time, the other takes over, no event is lost or reordered",
          "[store][unit][outbox]") {
  INFO(engine_name());
  if (!test::on_postgres()) return;  // on SQLite one process owns the file: there is one relay
  test::PostgresScratch scratch;
  auto first = Database::open(scratch.url(), {.schema = "catalog", .pool_size = 4});
  auto second = Database::open(scratch.url(), {.schema = "catalog", .pool_size = 4});
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::mutex m;
  std::map<std::string, std::vector<int>> by_key;
  std::set<std::string> ids;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) {
    std::lock_guard lock(m);
    if (!ids.insert(e.id).second) return;  // a redelivery after the takeover: the inbox's job
    by_key[e.key].push_back(e.payload.at("n").get<int>());
  });
  bus->start();
  RelayOptions options;
  options.poll_interval = std::chrono::milliseconds(50);
  auto relay_a = std::make_unique<OutboxRelay>(*first, *bus, "catalog", telemetry, options);
  OutboxRelay relay_b(*second, *bus, "catalog", telemetry, options);
  relay_a->start();
  relay_b.start();
  auto write = [&](Database& db, int from, int to) {
    for (int i = from; i < to; ++i)
      db.write([&](Tx& tx) {
        for (int k = 0; k < 3; ++k)
          outbox::enqueue(tx, {"ev-" + std::to_string(k) + "-" + std::to_string(i), "test.happened.v1", "catalog",
                               std::chrono::system_clock::now(), "req", nlohmann::json{{"n", i}}, "key-" + std::to_string(k)});
      });
  };
  write(*first, 0, 40);
  write(*second, 40, 80);
  relay_a.reset();  // the holder goes: the standby takes the lease and goes on
  first.reset();
  write(*second, 80, 120);
  REQUIRE(test::eventually([&] { return outbox::backlog(*second) == 0; }, std::chrono::seconds(20)));
  relay_b.stop();
  std::lock_guard lock(m);
  check_each_key_in_order(by_key, 3, 120);
}
