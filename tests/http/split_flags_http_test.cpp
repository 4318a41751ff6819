// Ordering split out with the documented flags and nothing else: two real processes, each with its
// own data directory (no file shared), started in either order. Needs the test broker
// (ESHOP_TEST_AMQP_URL_FILE), so these tests are hidden from the plain run and registered in
// tests/CMakeLists.txt with the broker fixture.
#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

struct SplitShop {
  test::TempDir gateway_dir, ordering_dir;
  std::uint16_t gateway_port = test::free_port(), ordering_port = test::free_port();
  std::string bus = test::amqp_test_url(), name_space = test::test_namespace();
  std::unique_ptr<test::Child> gateway, ordering;

  std::vector<std::string> env() const {
    return {std::string("ESHOP_ADMIN_EMAIL=") + test::kAdminEmail, std::string("ESHOP_ADMIN_PASSWORD=") + test::kAdminPassword};
  }
  std::string url(std::uint16_t port) const { return "http://127.0.0.1:" + std::to_string(port); }
  void start_gateway() {
    gateway = std::make_unique<test::Child>(
        std::vector<std::string>{ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(gateway_port),
                                 "--data-dir", gateway_dir.path().string(), "--modules",
                                 "identity,catalog,discount,basket", "--remote", "ordering=" + url(ordering_port),
                                 "--bus", bus, "--bus-namespace", name_space},
        env());
    REQUIRE_FALSE(gateway->wait_for_line("\"msg\":\"listening\"").empty());
  }
  void start_ordering() {
    ordering = std::make_unique<test::Child>(
        std::vector<std::string>{ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(ordering_port),
                                 "--data-dir", ordering_dir.path().string(), "--modules", "ordering", "--remote",
                                 "identity=" + url(gateway_port), "--bus", bus, "--bus-namespace", name_space,
                                 "--trusted-proxies", "127.0.0.1"},
        env());
    REQUIRE_FALSE(ordering->wait_for_line("\"msg\":\"listening\"").empty());
  }

  // A customer buys one of product 1 with `card`; returns the order once it is final.
  nlohmann::json buy(const std::string& email, const std::string& card) {
    http::Client c("127.0.0.1", gateway_port);
    REQUIRE(c.post("/api/v1/identity/register",
                   nlohmann::json{{"email", email}, {"password", "password-123"}, {"name", "Ann"}}.dump())
                .status == 201);
    const auto login = c.post("/api/v1/identity/login", nlohmann::json{{"email", email}, {"password", "password-123"}}.dump());
    REQUIRE(login.status == 200);
    const std::string token = body_of(login).at("token");
    REQUIRE(c.post("/api/v1/basket/items", R"({"productId":1,"quantity":1})", token).status == 200);
    const auto checkout = c.post("/api/v1/basket/checkout",
                                 nlohmann::json{{"shippingAddress",
                                                 {{"fullName", "Ann Lee"}, {"street", "1 Main St"}, {"city", "X"},
                                                  {"postalCode", "1"}, {"country", "US"}}},
                                                {"deliveryNote", ""},
                                                {"payment",
                                                 {{"cardNumber", card}, {"cardHolder", "Ann"}, {"expiry", "12/30"},
                                                  {"cvv", "123"}}}}
                                     .dump(),
                                 token);
    INFO(checkout.body);
    REQUIRE(checkout.status == 202);
    const std::string id = body_of(checkout).at("orderId");
    nlohmann::json order;
    REQUIRE(test::eventually(
        [&] {
          const auto res = c.get("/api/v1/orders/" + id, token);
          if (res.status != 200) return false;
          order = body_of(res);
          return order.at("status") == "completed" || order.at("status") == "cancelled";
        },
        std::chrono::seconds(30)));
    return order;
  }
};

}  // namespace

TEST_CASE("ordering split out by flags alone: ordering first, then the gateway", "[.flags][http]") {
  SplitShop shop;
  shop.start_ordering();
  shop.start_gateway();
  CHECK(shop.buy("ann@example.com", "4242424242424242").at("status") == "completed");
  const auto declined = shop.buy("bob@example.com", "4000000000000002");
  CHECK(declined.at("status") == "cancelled");
  CHECK(declined.at("statusReason") == "payment_declined");
  // No file is shared: each process wrote only in its own data directory.
  CHECK_FALSE(std::filesystem::exists(shop.gateway_dir.path() / "ordering.db"));
  CHECK(std::filesystem::exists(shop.ordering_dir.path() / "ordering.db"));
  CHECK_FALSE(std::filesystem::exists(shop.ordering_dir.path() / "basket.db"));
}

TEST_CASE("ordering split out by flags alone: the gateway first answers 503 for orders, then serves them",
          "[.flags][http]") {
  SplitShop shop;
  shop.start_gateway();
  http::Client c("127.0.0.1", shop.gateway_port);
  const auto token = [&] {
    REQUIRE(c.post("/api/v1/identity/register",
                   R"({"email":"early@example.com","password":"password-123","name":"Early"})").status == 201);
    return body_of(c.post("/api/v1/identity/login", R"({"email":"early@example.com","password":"password-123"})"))
        .at("token")
        .get<std::string>();
  }();
  const auto early = c.get("/api/v1/orders", token);
  CHECK(early.status == 503);
  CHECK(early.headers.get("Retry-After") == "1");
  CHECK(body_of(early).at("detail") == "The ordering module is unreachable.");
  const auto ready = c.get("/health/ready");
  CHECK(ready.status == 200);  // the gateway serves everything else meanwhile
  CHECK(body_of(ready).at("remotes").at("ordering") ==
        nlohmann::json{{"status", "down"}, {"url", shop.url(shop.ordering_port)}});

  shop.start_ordering();
  CHECK(c.get("/api/v1/orders", token).status == 200);  // recovered by itself, nothing restarted
  CHECK(body_of(c.get("/health/ready")).at("remotes").at("ordering").at("status") == "up");
  CHECK(shop.buy("ann@example.com", "4242424242424242").at("status") == "completed");
}

TEST_CASE("with identity unreachable, a module process answers 503, not 401", "[.flags][http]") {
  SplitShop shop;
  shop.start_ordering();  // its identity (the gateway) is not up
  http::Client c("127.0.0.1", shop.ordering_port);
  const auto res = c.get("/api/v1/orders", "some-token");
  CHECK(res.status == 503);
  CHECK(res.headers.get("Retry-After") == "1");
  CHECK(body_of(res).at("detail") == "The identity module is unreachable.");
}
