// Checkout and the place-order saga over HTTP, on the in-process bus.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <set>


#include "adapters/test_payment_provider.hpp"
#include "adapters/test_shipping_provider.hpp"
#include "support/shop.hpp"
#include "support/sqlite_count.hpp"

using namespace eshop;
using namespace eshop::test;

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Holds whoever passes until the test opens it, and tells the test that someone is waiting.
class Gate {
 public:
  void pass() {
    std::unique_lock lock(m_);
    waiting_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait_until_waiting() {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false, waiting_ = false;
};

// A carrier that holds every shipment until the test opens the gate: the saga waits at stock_confirmed.
class GatedShipping final : public ShippingProvider, public Gate {
 public:
  std::string create_shipment(const std::string& order_id, const ShippingAddress& address) override {
    pass();
    return inner_.create_shipment(order_id, address);
  }

 private:
  adapters::TestShippingProvider inner_;
};

}  // namespace

TEST_CASE("checkout answers 202 with the order, the saga completes it and mails the buyer", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(1, 2);
  ann.add(13, 1);
  REQUIRE(ann.c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", ann.token).status == 200);
  const auto res = ann.checkout();
  REQUIRE(res.status == 202);
  const auto id = body_of(res).at("orderId").get<std::string>();
  CHECK(body_of(res) == nlohmann::json{{"orderId", id}, {"status", "submitted"}});
  CHECK(res.headers.get("Location") == "/api/v1/orders/" + id);
  CHECK(body_of(ann.c.get("/api/v1/basket", ann.token)).at("items").empty());

  auto order = ann.await(id, "completed");
  REQUIRE(eventually([&] { return timeline_of(body_of(ann.order(id))).back() == "confirmation_sent"; }));
  order = body_of(ann.order(id));
  CHECK(timeline_of(order) == std::vector<std::string>{"submitted", "paid", "stock_confirmed", "shipped", "invoiced",
                                                       "completed", "confirmation_sent"});
  CHECK(order.at("statusReason").is_null());
  CHECK(order.at("items") == nlohmann::json::parse(R"([
    {"productId":1,"name":"Trailblazer 2 Running Shoe","unitPrice":12999,"quantity":2,"lineTotal":25998,
     "imageUrl":"/api/v1/catalog/images/trailblazer-2-running-shoe.svg"},
    {"productId":13,"name":"Trail Gaiter","unitPrice":2499,"quantity":1,"lineTotal":2499,
     "imageUrl":"/api/v1/catalog/images/trail-gaiter.svg"}])"));
  CHECK(order.at("subtotal") == 28497);
  CHECK(order.at("coupon") == nlohmann::json::parse(R"({"code":"WELCOME10","description":"10% off your first order","discount":2850})"));
  CHECK(order.at("discount") == 2850);
  CHECK(order.at("total") == 25647);
  CHECK(order.at("currency") == "USD");
  CHECK(order.at("shippingAddress") == nlohmann::json::parse(R"({"fullName":"Ann Lee","street":"1 Main St",
    "city":"Springfield","postalCode":"12345","country":"US"})"));
  CHECK(order.at("deliveryNote") == "Leave at the door");
  CHECK(order.at("payment") == nlohmann::json::parse(R"({"cardBrand":"visa","last4":"4242"})"));
  CHECK(order.at("shipment").at("trackingNumber") == adapters::TestShippingProvider().create_shipment(id, {}));
  CHECK(order.at("invoice").at("number") == "INV-2026-000001");

  CHECK(stock_of(server, 1) == 40);
  CHECK(stock_of(server, 13) == 119);
  const auto mail = read_file(server.data_dir() / "mail" / (id + ".eml"));
  CHECK_THAT(mail, Catch::Contains("To: Test Customer <ann@example.com>\r\n"));
  CHECK_THAT(mail, Catch::Contains("Subject: Your eshop order " + id + " is confirmed\r\n"));
  CHECK_THAT(mail, Catch::Contains("  2 x Trailblazer 2 Running Shoe at 129.99 = 259.98 USD\r\n"));
  CHECK_THAT(mail, Catch::Contains("Total: 256.47 USD\r\n"));

  const auto list = body_of(ann.c.get("/api/v1/orders", ann.token));
  CHECK(list == nlohmann::json{{"items", {{{"id", id}, {"createdAt", order.at("createdAt")}, {"status", "completed"},
                                           {"total", 25647}, {"currency", "USD"}, {"itemCount", 3}}}},
                               {"page", 1}, {"pageSize", 20}, {"totalItems", 1}, {"totalPages", 1}});
}

TEST_CASE("a declined card cancels the order and takes no stock", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  const auto id = ann.place("4000000000000002");
  const auto order = ann.await(id, "cancelled");
  CHECK(order.at("statusReason") == "payment_declined");
  CHECK(timeline_of(order) == std::vector<std::string>{"submitted", "payment_declined"});
  CHECK(stock_of(server, 1) == 42);
  CHECK_FALSE(std::filesystem::exists(server.data_dir() / "mail" / (id + ".eml")));
}

namespace {

// Ann and Bob check out the last unit of a new product at the same moment; both checkouts are
// accepted, and the race is over when both orders are final (completed, or cancelled and refunded).
struct LastUnitRace {
  explicit LastUnitRace(TestServer& server) : ann(server, "ann@example.com"), bob(server, "bob@example.com") {
    auto admin = server.client();
    const auto created = admin.post("/api/v1/catalog/products",
                                    R"({"name":"Last One","price":1000,"brandId":1,"categoryId":1,"availableStock":1})",
                                    server.admin_token());
    REQUIRE(created.status == 201);
    product = body_of(created).at("id");
    ann.add(product, 1);
    bob.add(product, 1);
    auto a = std::async(std::launch::async, [&] { return ann.checkout(); });  // no assertions off this thread
    auto b = std::async(std::launch::async, [&] { return bob.checkout(); });
    const auto ann_res = a.get(), bob_res = b.get();
    REQUIRE(ann_res.status == 202);
    REQUIRE(bob_res.status == 202);
    const std::string ann_id = body_of(ann_res).at("orderId"), bob_id = body_of(bob_res).at("orderId");
    const auto is_final = [](const nlohmann::json& o) {
      return o.at("status") == "completed" || (o.at("status") == "cancelled" &&
                                               timeline_of(o).back() == "payment_refunded");
    };
    REQUIRE(eventually([&] {
      ann_order = body_of(ann.order(ann_id));
      bob_order = body_of(bob.order(bob_id));
      return is_final(ann_order) && is_final(bob_order);
    }));
  }
  bool ann_lost() const { return ann_order.at("status") == "cancelled"; }
  Shopper& loser() { return ann_lost() ? ann : bob; }
  Shopper& winner() { return ann_lost() ? bob : ann; }
  const nlohmann::json& lost_order() const { return ann_lost() ? ann_order : bob_order; }

  Shopper ann, bob;
  std::int64_t product = 0;
  nlohmann::json ann_order, bob_order;
};

}  // namespace

TEST_CASE("two shoppers race for the last unit: one completes, one is refunded", "[ordering][http]") {
  TestServer server;
  LastUnitRace race(server);
  const std::multiset<std::string> statuses = {race.ann_order.at("status"), race.bob_order.at("status")};
  CHECK(statuses == std::multiset<std::string>{"cancelled", "completed"});
  CHECK(race.lost_order().at("statusReason") == "out_of_stock");
  CHECK(timeline_of(race.lost_order()) ==
        std::vector<std::string>{"submitted", "paid", "out_of_stock", "payment_refunded"});
  CHECK(stock_of(server, race.product) == 0);
  const auto ledger = server.data_dir() / "payments.db";
  CHECK(sqlite_count(ledger, "SELECT COUNT(*) FROM charges WHERE approved = 1") == 2);
  CHECK(sqlite_count(ledger, "SELECT COUNT(*) FROM charges WHERE refunded = 1") == 1);
}

TEST_CASE("a customer cancels before shipment: refunded, stock released", "[ordering][http][ports]") {
  TempDir dir;
  GatedShipping carrier;
  TestServer server(test_config(dir.path()), app::Ports{.shipping = &carrier});
  Shopper ann(server, "ann@example.com");
  ann.add(1, 3);
  const auto id = ann.place();
  REQUIRE(carrier.wait_until_waiting());  // the saga holds at stock_confirmed
  CHECK(stock_of(server, 1) == 39);
  const auto res = ann.c.post("/api/v1/orders/" + id + "/cancel", "", ann.token);
  REQUIRE(res.status == 200);
  CHECK(body_of(res).at("status") == "cancelled");
  CHECK(body_of(res).at("statusReason") == "cancelled_by_customer");
  carrier.open();
  nlohmann::json order;
  REQUIRE(eventually([&] {
    order = body_of(ann.order(id));
    const auto t = timeline_of(order);
    return std::count(t.begin(), t.end(), "payment_refunded") == 1 && std::count(t.begin(), t.end(), "stock_released") == 1;
  }));
  CHECK(order.at("status") == "cancelled");
  CHECK(order.at("shipment").is_null());
  auto t = timeline_of(order);
  std::sort(t.begin() + 4, t.end());  // refund and release run in parallel modules
  CHECK(t == std::vector<std::string>{"submitted", "paid", "stock_confirmed", "cancelled_by_customer",
                                      "payment_refunded", "stock_released"});
  CHECK(stock_of(server, 1) == 42);
  CHECK(sqlite_count(server.data_dir() / "payments.db", "SELECT COUNT(*) FROM charges WHERE refunded = 1") == 1);
  CHECK(ann.c.post("/api/v1/orders/" + id + "/cancel", "", ann.token).status == 409);
}

TEST_CASE("an order that has shipped cannot be cancelled", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(2, 1);
  const auto id = ann.place();
  ann.await(id, "completed");
  const auto res = ann.c.post("/api/v1/orders/" + id + "/cancel", "", ann.token);
  CHECK(res.status == 409);
  CHECK(body_of(res).at("detail") == "The order has shipped and can no longer be cancelled.");
  CHECK(body_of(ann.order(id)).at("status") == "completed");
}

TEST_CASE("another user's order is 404, an admin may read it", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper bob(server, "bob@example.com");
  ann.add(2, 1);
  const auto id = ann.place();
  ann.await(id, "completed");
  const auto peek = bob.order(id);
  CHECK(peek.status == 404);
  CHECK(body_of(peek).at("detail") == "No order has this id.");
  CHECK(bob.c.post("/api/v1/orders/" + id + "/cancel", "", bob.token).status == 404);
  CHECK(body_of(bob.c.get("/api/v1/orders", bob.token)).at("totalItems") == 0);
  CHECK(body_of(bob.c.get("/api/v1/orders/" + id, server.admin_token())).at("id") == id);
  CHECK(bob.c.get("/api/v1/orders/" + id).status == 401);
}

TEST_CASE("order history is newest first and paged", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ann.add(2, 1);
    ids.push_back(ann.place());
    ann.await(ids.back(), "completed");
  }
  const auto page = body_of(ann.c.get("/api/v1/orders?pageSize=2", ann.token));
  CHECK(page.at("totalItems") == 3);
  CHECK(page.at("totalPages") == 2);
  REQUIRE(page.at("items").size() == 2);
  CHECK(page.at("items")[0].at("id") == ids[2]);
  CHECK(page.at("items")[1].at("id") == ids[1]);
  CHECK(body_of(ann.c.get("/api/v1/orders?page=2&pageSize=2", ann.token)).at("items")[0].at("id") == ids[0]);
  CHECK(ann.c.get("/api/v1/orders?pageSize=101", ann.token).status == 422);
}

TEST_CASE("checkout validates the basket, address and card with 422", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  const auto empty = ann.checkout();
  CHECK(empty.status == 422);
  CHECK(body_of(empty).at("errors") == nlohmann::json::parse(R"({"items":["the basket is empty"]})"));
  ann.add(1, 1);
  const auto bad = ann.checkout(R"({"shippingAddress":{"fullName":" ","street":"1 Main St","city":"X"},
    "payment":{"cardNumber":"4242424242424241","cardHolder":"Ann","expiry":"01/20","cvv":"12"}})");
  CHECK(bad.status == 422);
  CHECK(body_of(bad).at("errors") == nlohmann::json::parse(R"({
    "payment.cardNumber":["is not a valid card number"],"payment.cvv":["must be 3 or 4 digits"],
    "payment.expiry":["is in the past"],"shippingAddress.country":["is required"],
    "shippingAddress.fullName":["must not be empty"],"shippingAddress.postalCode":["is required"]})"));
  CHECK(body_of(ann.checkout(R"({})")).at("errors") == nlohmann::json::parse(R"({
    "payment":["is required"],"payment.cardHolder":["is required"],"payment.cardNumber":["is required"],
    "payment.cvv":["is required"],"payment.expiry":["is required"],"shippingAddress":["is required"],
    "shippingAddress.city":["is required"],"shippingAddress.country":["is required"],
    "shippingAddress.fullName":["is required"],"shippingAddress.postalCode":["is required"],
    "shippingAddress.street":["is required"]})"));
  CHECK(body_of(ann.c.get("/api/v1/basket", ann.token)).at("itemCount") == 1);  // nothing lost
}

TEST_CASE("the same Idempotency-Key answers the same order, never a second", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  const auto first = ann.checkout(checkout_body(), "key-1");
  REQUIRE(first.status == 202);
  const auto again = ann.checkout(checkout_body(), "key-1");
  CHECK(again.status == 202);
  CHECK(again.body == first.body);
  CHECK(again.headers.get("Location") == first.headers.get("Location"));
  const auto other = ann.checkout(checkout_body("4242424242424242", "Ring twice"), "key-1");
  CHECK(other.status == 422);
  CHECK(body_of(other).at("errors") == nlohmann::json::parse(R"({"Idempotency-Key":["was already used with a different request"]})"));
  const auto id = body_of(first).at("orderId").get<std::string>();
  ann.await(id, "completed");
  CHECK(body_of(ann.c.get("/api/v1/orders", ann.token)).at("totalItems") == 1);
  CHECK(stock_of(server, 1) == 41);
}

TEST_CASE("concurrent checkouts with one Idempotency-Key make one order", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  std::vector<std::future<http::Response>> attempts;
  for (int i = 0; i < 6; ++i)
    attempts.push_back(std::async(std::launch::async, [&] {
      http::Client c = server.client();
      http::Request r;
      r.method = "POST";
      r.target = "/api/v1/basket/checkout";
      r.headers.add("Content-Type", "application/json");
      r.headers.add("Authorization", "Bearer " + ann.token);
      r.headers.add("Idempotency-Key", "same-key");
      r.body = checkout_body();
      return c.send(r);
    }));
  std::set<std::string> ids;
  for (auto& a : attempts) {
    const auto res = a.get();
    INFO(res.body);
    REQUIRE(res.status == 202);
    ids.insert(body_of(res).at("orderId").get<std::string>());
  }
  CHECK(ids.size() == 1);
  ann.await(*ids.begin(), "completed");
  CHECK(server.count("ordering", "SELECT COUNT(*) FROM orders") == 1);
  CHECK(sqlite_count(server.data_dir() / "payments.db", "SELECT COUNT(*) FROM charges") == 1);
}

TEST_CASE("no card number, expiry or CVV reaches any database or the mail", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  const auto id = ann.place("5555555555554444");
  ann.await(id, "completed");
  REQUIRE(eventually([&] { return std::filesystem::exists(server.data_dir() / "mail" / (id + ".eml")); }));
  CHECK(body_of(ann.order(id)).at("payment") == nlohmann::json::parse(R"({"cardBrand":"mastercard","last4":"4444"})"));
  server.stop();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(server.data_dir())) {
    if (!entry.is_regular_file()) continue;
    const auto bytes = read_file(entry.path());
    INFO(entry.path());
    CHECK(bytes.find("5555555555554444") == std::string::npos);
    CHECK(bytes.find("12/30") == std::string::npos);
  }
}

TEST_CASE("the request id travels with the request, through the gateway to whichever process serves it",
          "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/orders";
  r.headers.add("Authorization", "Bearer " + ann.token);
  r.headers.add("X-Request-Id", "trace-orders-42");
  const auto res = ann.c.send(r);
  CHECK(res.status == 200);
  CHECK(res.headers.get("X-Request-Id") == "trace-orders-42");
}

TEST_CASE("reservations and admin edits of the same product at once lose no stock", "[ordering][http]") {
  TestServer server;
  const auto admin_token = server.admin_token();
  auto admin = server.client();
  REQUIRE(admin.put("/api/v1/catalog/products/2", R"({"availableStock":500})", admin_token).status == 200);
  constexpr int kShoppers = 4, kOrdersEach = 8;
  std::vector<std::unique_ptr<Shopper>> racers;
  for (int s = 0; s < kShoppers; ++s)
    racers.push_back(std::make_unique<Shopper>(server, "racer" + std::to_string(s) + "@example.com"));
  // The shoppers' threads assert nothing (Catch's assertions are for this thread): they return answers.
  std::vector<std::future<std::vector<http::Response>>> shoppers;
  for (auto& racer : racers)
    shoppers.push_back(std::async(std::launch::async, [&shopper = *racer] {
      std::vector<http::Response> answers;
      for (int i = 0; i < kOrdersEach; ++i) {
        answers.push_back(shopper.try_add(2, 2));
        answers.push_back(shopper.checkout());
      }
      return answers;
    }));
  // Meanwhile an admin edits the product's name and price, never its stock.
  for (int i = 0; i < 30; ++i) {
    const auto body = nlohmann::json{{"name", "Renamed " + std::to_string(i)}, {"price", 5000 + i}}.dump();
    REQUIRE(admin.put("/api/v1/catalog/products/2", body, admin_token).status == 200);
  }
  std::vector<std::string> ids;
  for (auto& f : shoppers) {
    const auto answers = f.get();
    for (std::size_t i = 0; i < answers.size(); i += 2) {
      INFO(answers[i].body << answers[i + 1].body);
      REQUIRE(answers[i].status == 200);
      REQUIRE(answers[i + 1].status == 202);
      ids.push_back(body_of(answers[i + 1]).at("orderId"));
    }
  }
  REQUIRE(ids.size() == kShoppers * kOrdersEach);
  auto c = server.client();
  const int reserved = kShoppers * kOrdersEach * 2;
  // Every order completes, and both the database and the read model hold exactly what is left.
  // (A generous limit: this is about stock, not speed, and CI runs it next to heavier tests.)
  const bool all_completed = eventually(
      [&] {
        return server.count("ordering", "SELECT COUNT(*) FROM orders WHERE status = 'completed'") == kShoppers * kOrdersEach;
      },
      std::chrono::seconds(30));
  INFO("orders not completed: " << server.count("ordering", "SELECT COUNT(*) FROM orders WHERE status <> 'completed'"));
  REQUIRE(all_completed);
  CHECK(server.count("catalog", "SELECT available_stock FROM products WHERE id = 2") ==
        500 - reserved);
  CHECK(stock_of(server, 2) == 500 - reserved);
  const auto product = body_of(c.get("/api/v1/catalog/products/2"));
  CHECK(product.at("name") == "Renamed 29");
  CHECK(product.at("price") == 5029);
}

// --- a checkout never loses the basket ----------------------------------------------------------

namespace {

// The basket's lines as (productId, quantity), in order.
std::vector<std::pair<std::int64_t, std::int64_t>> lines_of(const nlohmann::json& basket) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& i : basket.at("items")) out.emplace_back(i.at("productId"), i.at("quantity"));
  return out;
}

using Lines = std::vector<std::pair<std::int64_t, std::int64_t>>;

}  // namespace

TEST_CASE("a declined card gives the customer the basket back, coupon included", "[ordering][http]") {
  TestServer server;
  Shopper ann(server, "ann@example.com");
  ann.add(1, 2);
  ann.add(2, 1);
  REQUIRE(ann.c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", ann.token).status == 200);
  const auto id = ann.place("4000000000000002");
  // Emptied by the checkout. On a fast engine the saga may have declined the card and given the
  // basket back before this read, but never before the order was cancelled: the give-back is
  // published in the cancel's transaction.
  if (!body_of(ann.c.get("/api/v1/basket", ann.token)).at("items").empty())
    CHECK(body_of(ann.c.get("/api/v1/orders/" + id, ann.token)).at("status") == "cancelled");
  CHECK(ann.await(id, "cancelled").at("statusReason") == "payment_declined");
  nlohmann::json basket;
  REQUIRE(eventually([&] {
    basket = body_of(ann.c.get("/api/v1/basket", ann.token));
    return !basket.at("items").empty();
  }));
  CHECK(lines_of(basket) == Lines{{1, 2}, {2, 1}});
  CHECK(basket.at("coupon").at("code") == "WELCOME10");
  CHECK(stock_of(server, 1) == 42);
}

TEST_CASE("an out-of-stock cancellation gives the loser the lines back, with the stock now available",
          "[ordering][http]") {
  TestServer server;
  LastUnitRace race(server);
  CHECK(race.lost_order().at("statusReason") == "out_of_stock");
  auto& loser = race.loser();
  nlohmann::json basket;
  REQUIRE(eventually([&] {
    basket = body_of(loser.c.get("/api/v1/basket", loser.token));
    return !basket.at("items").empty() && basket.at("items").at(0).at("availableStock") == 0;
  }));
  CHECK(lines_of(basket) == Lines{{race.product, 1}});
  CHECK(body_of(race.winner().c.get("/api/v1/basket", race.winner().token)).at("items").empty());
  // Checking the restored basket out again is refused before any charge, with the numbers.
  const auto again = loser.checkout();
  CHECK(again.status == 409);
  CHECK(body_of(again).at("detail") == "Not enough stock for Last One: 1 wanted, 0 available.");
  CHECK(body_of(again).at("lines") ==
        nlohmann::json::parse(R"([{"productId":)" + std::to_string(race.product) +
                              R"(,"name":"Last One","quantity":1,"availableStock":0}])"));
}

namespace {

// A payment provider that holds every charge until the test opens the gate.
class GatedPayments final : public PaymentProvider, public Gate {
 public:
  explicit GatedPayments(const std::filesystem::path& ledger)
      : db_(Database::open(ledger.string())), inner_(*db_) {}
  Result<CardToken> tokenize(const CardDetails& card) override { return inner_.tokenize(card); }
  ChargeResult charge(const std::string& token, Money amount, const std::string& currency,
                      const std::string& key) override {
    pass();
    return inner_.charge(token, amount, currency, key);
  }
  void refund(const std::string& charge_id, const std::string& key) override { inner_.refund(charge_id, key); }

 private:
  std::unique_ptr<Database> db_;
  adapters::TestPaymentProvider inner_;
};

}  // namespace

TEST_CASE("lines given back are added to a basket the customer filled meanwhile", "[ordering][http][ports]") {
  TempDir dir;
  GatedPayments payments(dir.path() / "gated-payments.db");
  TestServer server(test_config(dir.path()), app::Ports{.payments = &payments});
  Shopper ann(server, "ann@example.com");
  ann.add(1, 2);
  ann.add(5, 1);
  const auto id = ann.place("4000000000000002");
  REQUIRE(payments.wait_until_waiting());  // the saga holds before the charge
  ann.add(1, 1);
  ann.add(3, 4);
  REQUIRE(ann.c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", ann.token).status == 200);
  payments.open();
  CHECK(ann.await(id, "cancelled").at("statusReason") == "payment_declined");
  nlohmann::json basket;
  REQUIRE(eventually([&] {
    basket = body_of(ann.c.get("/api/v1/basket", ann.token));
    return basket.at("itemCount") == 8;
  }));
  CHECK(lines_of(basket) == Lines{{1, 3}, {3, 4}, {5, 1}});
  CHECK(basket.at("coupon").at("code") == "WELCOME10");
}

// --- slow motion, for a class to watch -------------------------------------------------------------

TEST_CASE("in slow motion a class sees every status of the saga, and a customer can cancel in time",
          "[ordering][http][ports]") {
  TempDir dir;
  auto config = test_config(dir.path());
  config.saga_step_delay_ms = 300;
  TestServer server(config);
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  const auto id = ann.place();
  std::vector<std::string> seen;
  REQUIRE(eventually(
      [&] {
        const auto res = ann.order(id);
        if (res.status != 200) return false;
        const std::string status = body_of(res).at("status");
        if (seen.empty() || seen.back() != status) seen.push_back(status);
        return status == "completed";
      },
      std::chrono::seconds(20)));
  CHECK(seen == std::vector<std::string>{"submitted", "paid", "stock_confirmed", "shipped", "completed"});

  // A second order, cancelled while the saga waits between paid and the stock's confirmation.
  const auto stock_before = stock_of(server, 2);
  ann.add(2, 1);
  const auto second = ann.place();
  ann.await(second, "paid");
  const auto cancel = ann.c.post("/api/v1/orders/" + second + "/cancel", "", ann.token);
  REQUIRE(cancel.status == 200);
  CHECK(body_of(cancel).at("statusReason") == "cancelled_by_customer");
  nlohmann::json order;
  REQUIRE(eventually(
      [&] {
        order = body_of(ann.order(second));
        const auto t = timeline_of(order);
        return std::count(t.begin(), t.end(), "payment_refunded") == 1 && std::count(t.begin(), t.end(), "stock_released") == 1;
      },
      std::chrono::seconds(20)));
  CHECK(order.at("status") == "cancelled");
  CHECK(stock_of(server, 2) == stock_before);  // whatever was reserved went back
}

TEST_CASE("billing commits with the shipment, and order_shipped is published only in slow motion",
          "[ordering][http]") {
  const auto run = [](int step_delay_ms) {
    TempDir dir;
    auto config = test_config(dir.path());
    config.saga_step_delay_ms = step_delay_ms;
    TestServer server(config);
    Shopper ann(server, "bill@example.com");
    ann.add(1, 1);
    const auto id = ann.place();
    ann.await(id, "completed");
    REQUIRE(eventually([&] { return timeline_of(body_of(ann.order(id))).back() == "confirmation_sent"; },
                       std::chrono::seconds(20)));
    const auto order = body_of(ann.order(id));
    CHECK(timeline_of(order) == std::vector<std::string>{"submitted", "paid", "stock_confirmed", "shipped", "invoiced",
                                                         "completed", "confirmation_sent"});
    CHECK(order.at("invoice").at("number") == "INV-2026-000001");
    return ann.c.get("/metrics").body;
  };
  const auto fast = run(0);
  CHECK_THAT(fast, Catch::Contains(
                       R"(eshop_events_total{module="ordering",outcome="published",type="ordering.order_completed.v1"} 1)"));
  CHECK_THAT(fast, !Catch::Contains(R"(type="ordering.order_shipped.v1")"));
  const auto slow = run(20);
  CHECK_THAT(slow, Catch::Contains(
                       R"(eshop_events_total{module="ordering",outcome="published",type="ordering.order_shipped.v1"} 1)"));
  CHECK_THAT(slow, Catch::Contains(
                       R"(eshop_events_total{module="ordering",outcome="handled",type="ordering.order_shipped.v1"} 1)"));
}

TEST_CASE("an order page polls with If-None-Match: 304 until the saga moves on, then the new state",
          "[ordering][http][ports]") {
  TempDir dir;
  auto config = test_config(dir.path());
  config.saga_step_delay_ms = 400;
  TestServer server(config);
  Shopper ann(server, "poll@example.com");
  ann.add(1, 1);
  const auto id = ann.place();
  ann.await(id, "submitted");  // each step waits 400 ms: time enough for two requests
  const auto first = ann.order(id);
  REQUIRE(first.status == 200);
  const std::string etag(first.headers.get("ETag"));
  CHECK(etag.size() == 34);  // a quoted 32-character tag
  CHECK(first.headers.get("Cache-Control") == "no-cache");
  http::Request poll;
  poll.method = "GET";
  poll.target = "/api/v1/orders/" + id;
  poll.headers.add("Authorization", "Bearer " + ann.token);
  poll.headers.add("If-None-Match", etag);
  const auto unchanged = ann.c.send(poll);
  CHECK(unchanged.status == 304);
  CHECK(unchanged.body.empty());
  CHECK(unchanged.headers.get("ETag") == etag);
  ann.await(id, "completed");
  const auto moved_on = ann.c.send(poll);
  CHECK(moved_on.status == 200);
  CHECK(body_of(moved_on).at("status") == "completed");
  CHECK(moved_on.headers.get("ETag") != etag);
  // Another customer's poll learns nothing, not even that the order exists.
  Shopper bob(server, "bob-poll@example.com");
  poll.headers.set("Authorization", "Bearer " + bob.token);
  CHECK(bob.c.send(poll).status == 404);
}
