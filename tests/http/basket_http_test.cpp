// The basket over HTTP: lines, stock, coupons, persistence, and catalog's events.
#include <catch2/catch.hpp>

#include "support/eventually.hpp"

#include <thread>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::eventually;
using eshop::test::body_of;

namespace {

const char* kEmpty = R"({"items":[],"itemCount":0,"subtotal":0,"coupon":null,"discount":0,"total":0,"currency":"USD"})";

struct Shopper {
  test::TestServer& server;
  std::string token;
  http::Client c;
  Shopper(test::TestServer& s, const std::string& email) : server(s), token(s.customer_token(email)), c(s.client()) {}

  nlohmann::json basket() { return ok(c.get("/api/v1/basket", token)); }
  http::Response add(std::int64_t product, std::int64_t quantity) {
    return c.post("/api/v1/basket/items",
                  nlohmann::json{{"productId", product}, {"quantity", quantity}}.dump(), token);
  }
  http::Response set(std::int64_t product, std::int64_t quantity) {
    return c.put("/api/v1/basket/items/" + std::to_string(product), nlohmann::json{{"quantity", quantity}}.dump(), token);
  }
  http::Response coupon(const std::string& code) {
    return c.put("/api/v1/basket/coupon", nlohmann::json{{"code", code}}.dump(), token);
  }
  static nlohmann::json ok(const http::Response& res) {
    INFO(res.body);
    REQUIRE(res.status == 200);
    return body_of(res);
  }
};

}  // namespace

TEST_CASE("the basket needs a user, a new user's basket is empty", "[basket][http]") {
  test::TestServer server;
  auto c = server.client();
  CHECK(c.get("/api/v1/basket").status == 401);
  CHECK(c.post("/api/v1/basket/items", R"({"productId":1})").status == 401);
  Shopper ann(server, "ann@example.com");
  CHECK(ann.basket() == nlohmann::json::parse(kEmpty));
}

TEST_CASE("adding lines prices them, adding again adds to the quantity", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  CHECK(Shopper::ok(ann.add(1, 2)) == nlohmann::json::parse(R"({"items":[{"productId":1,
    "name":"Trailblazer 2 Running Shoe","unitPrice":12999,"quantity":2,"lineTotal":25998,"availableStock":42,
    "imageUrl":"/api/v1/catalog/images/trailblazer-2-running-shoe.svg"}],
    "itemCount":2,"subtotal":25998,"coupon":null,"discount":0,"total":25998,"currency":"USD"})"));
  Shopper::ok(ann.add(1, 1));
  const auto b = Shopper::ok(ann.add(13, 4));
  CHECK(b.at("items").size() == 2);
  CHECK(b.at("items")[0].at("quantity") == 3);
  CHECK(b.at("items")[1] == nlohmann::json::parse(R"({"productId":13,"name":"Trail Gaiter","unitPrice":2499,
    "quantity":4,"lineTotal":9996,"availableStock":120,"imageUrl":"/api/v1/catalog/images/trail-gaiter.svg"})"));
  CHECK(b.at("itemCount") == 7);
  CHECK(b.at("subtotal") == 48993);
  CHECK(b.at("total") == 48993);
  CHECK(ann.basket() == b);
}

TEST_CASE("prices, totals and users sent by the client are ignored", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  const auto b = Shopper::ok(ann.c.post("/api/v1/basket/items",
      R"({"productId":1,"quantity":1,"unitPrice":1,"lineTotal":1,"total":1,"userId":"someone-else"})", ann.token));
  CHECK(b.at("items")[0].at("unitPrice") == 12999);
  CHECK(b.at("total") == 12999);
}

TEST_CASE("bad lines: 422 for quantities, 404 for unknown products, 409 beyond stock", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  const auto zero = ann.add(1, 0);
  CHECK(zero.status == 422);
  CHECK(body_of(zero).at("errors") == nlohmann::json::parse(R"({"quantity":["must be 1 or more"]})"));
  CHECK(body_of(ann.c.post("/api/v1/basket/items", R"({"quantity":1})", ann.token)).at("errors") ==
        nlohmann::json::parse(R"({"productId":["is required"]})"));
  const auto unknown = ann.add(999, 1);
  CHECK(unknown.status == 404);
  CHECK(body_of(unknown).at("detail") == "No product has this id.");
  const auto too_many = ann.add(7, 7);  // Summit Mountaineering Boot: 6 in stock
  CHECK(too_many.status == 409);
  CHECK(body_of(too_many).at("detail") == "Only 6 of this product are available.");
  Shopper::ok(ann.add(7, 6));
  CHECK(body_of(ann.add(7, 1)).at("detail") == "Only 6 of this product are available.");
  CHECK(body_of(ann.add(9, 1)).at("detail") == "Only 0 of this product are available.");  // sold out
  CHECK(ann.basket().at("itemCount") == 6);
}

TEST_CASE("setting a quantity replaces it, 0 removes the line, DELETE removes it too", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(1, 3));
  Shopper::ok(ann.add(13, 1));
  CHECK(Shopper::ok(ann.set(1, 1)).at("items")[0].at("quantity") == 1);
  CHECK(ann.set(1, 43).status == 409);
  CHECK(Shopper::ok(ann.set(20, 2)).at("items").size() == 3);  // setting a new line adds it
  CHECK(Shopper::ok(ann.set(1, 0)).at("items").size() == 2);
  const auto removed = Shopper::ok(ann.c.del("/api/v1/basket/items/13", ann.token));
  CHECK(removed.at("items").size() == 1);
  CHECK(removed.at("items")[0].at("productId") == 20);
  CHECK(ann.set(1, -1).status == 422);
  CHECK(ann.c.put("/api/v1/basket/items/abc", R"({"quantity":1})", ann.token).status == 404);
  CHECK(ann.c.del("/api/v1/basket", ann.token).status == 204);
  CHECK(ann.basket() == nlohmann::json::parse(kEmpty));
}

TEST_CASE("a percent coupon rounds half up, the coupon shows in the basket", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(21, 1));  // Sun Hoodie, 54.99: 10% is 5.499 -> 5.50
  const auto b = Shopper::ok(ann.coupon("welcome10"));
  CHECK(b.at("coupon") == nlohmann::json::parse(R"({"code":"WELCOME10","description":"10% off your first order","discount":550})"));
  CHECK(b.at("subtotal") == 5499);
  CHECK(b.at("discount") == 550);
  CHECK(b.at("total") == 4949);
  CHECK(ann.basket() == b);
  const auto removed = Shopper::ok(ann.c.del("/api/v1/basket/coupon", ann.token));
  CHECK(removed.at("coupon").is_null());
  CHECK(removed.at("total") == 5499);
}

TEST_CASE("coupons that do not apply are 422 naming the reason", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(13, 1));  // 24.99
  auto reason = [&](const std::string& code) {
    const auto res = ann.coupon(code);
    CHECK(res.status == 422);
    return body_of(res).at("errors").at("code")[0].get<std::string>();
  };
  CHECK(reason("NOPE") == "No coupon has this code.");
  CHECK(reason("SUMMER2020") == "The coupon has expired.");
  CHECK(reason("SAVE20") == "The coupon needs a subtotal of at least 100.00.");
  CHECK(reason("TRAIL15") == "The coupon applies to a product that is not in the basket.");
  CHECK(ann.basket().at("coupon").is_null());
}

TEST_CASE("a fixed coupon with a minimum, and a product coupon on its line only", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(1, 2));   // 259.98
  Shopper::ok(ann.add(13, 1));  // 24.99
  const auto save = Shopper::ok(ann.coupon("SAVE20"));
  CHECK(save.at("discount") == 2000);
  CHECK(save.at("total") == 26497);
  const auto trail = Shopper::ok(ann.coupon("TRAIL15"));  // 15% of 259.98 = 38.997 -> 39.00
  CHECK(trail.at("discount") == 3900);
  CHECK(trail.at("total") == 28497 - 3900);
}

TEST_CASE("a fixed coupon is capped at the eligible amount", "[basket][http]") {
  test::TestServer server;
  auto c = server.client();
  REQUIRE(c.post("/api/v1/discounts", R"({"code":"HUGE","type":"fixed","value":100000})", server.admin_token()).status == 201);
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(13, 1));
  const auto b = Shopper::ok(ann.coupon("HUGE"));
  CHECK(b.at("discount") == 2499);
  CHECK(b.at("total") == 0);
}

TEST_CASE("an admin's change to a coupon shows in baskets at once", "[basket][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(1, 1));
  CHECK(Shopper::ok(ann.coupon("WELCOME10")).at("discount") == 1300);
  REQUIRE(ann.c.put("/api/v1/discounts/WELCOME10", R"({"value":20})", admin).status == 200);
  CHECK(ann.basket().at("discount") == 2600);
  REQUIRE(ann.c.del("/api/v1/discounts/WELCOME10", admin).status == 204);
  const auto b = ann.basket();
  CHECK(b.at("coupon").is_null());
  CHECK(b.at("discount") == 0);
  CHECK(b.at("total") == 12999);
}

TEST_CASE("a coupon whose minimum is no longer met stops applying", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(1, 1));
  Shopper::ok(ann.add(13, 1));
  CHECK(Shopper::ok(ann.coupon("SAVE20")).at("discount") == 2000);
  const auto b = Shopper::ok(ann.set(1, 0));
  CHECK(b.at("coupon").is_null());
  CHECK(b.at("total") == 2499);
  CHECK(Shopper::ok(ann.add(1, 1)).at("discount") == 2000);  // the code is kept: it applies again
}

TEST_CASE("each user has their own basket", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper bob(server, "bob@example.com");
  Shopper::ok(ann.add(1, 1));
  CHECK(bob.basket() == nlohmann::json::parse(kEmpty));
  Shopper::ok(bob.add(2, 1));
  CHECK(ann.basket().at("items")[0].at("productId") == 1);
}

TEST_CASE("the basket survives logout, login and a restart", "[basket][http]") {
  test::TempDir dir;
  nlohmann::json before;
  {
    test::TestServer server(dir.path());
    Shopper ann(server, "ann@example.com");
    Shopper::ok(ann.add(1, 2));
    before = Shopper::ok(ann.coupon("WELCOME10"));
    REQUIRE(ann.c.post("/api/v1/identity/logout", "", ann.token).status == 204);
  }
  test::TestServer server(dir.path());
  auto c = server.client();
  const auto token = server.login("ann@example.com", "password-123");
  CHECK(Shopper::ok(c.get("/api/v1/basket", token)) == before);
}

TEST_CASE("a price change reaches every basket through the bus", "[basket][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  Shopper ann(server, "ann@example.com");
  Shopper bob(server, "bob@example.com");
  Shopper::ok(ann.add(1, 2));
  Shopper::ok(bob.add(1, 1));
  Shopper::ok(bob.add(2, 1));
  REQUIRE(ann.c.put("/api/v1/catalog/products/1", R"({"price":9999,"name":"Trailblazer 3"})", admin).status == 200);
  CHECK(eventually([&] {
    const auto line = ann.basket().at("items")[0];
    return line.at("unitPrice") == 9999 && line.at("name") == "Trailblazer 3";
  }));
  const auto a = ann.basket();
  CHECK(a.at("items")[0].at("name") == "Trailblazer 3");
  CHECK(a.at("subtotal") == 19998);
  CHECK(eventually([&] { return bob.basket().at("subtotal") == 9999 + 18999; }));
}

TEST_CASE("a deleted product leaves every basket", "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(1, 1));
  Shopper::ok(ann.add(2, 1));
  REQUIRE(ann.c.del("/api/v1/catalog/products/1", server.admin_token()).status == 204);
  CHECK(eventually([&] { return ann.basket().at("items").size() == 1; }));
  CHECK(ann.basket().at("items")[0].at("productId") == 2);
}

TEST_CASE("a line's change answered after its commit: with a coupon, counted, logged and with its request id",
          "[basket][http]") {
  test::TestServer server;
  Shopper ann(server, "ann@example.com");
  Shopper::ok(ann.add(21, 1));
  Shopper::ok(ann.coupon("welcome10"));
  // The basket holds a coupon: its terms come from discount, on a worker, after the commit.
  const auto b = Shopper::ok(ann.set(21, 3));  // 3 x 54.99 = 164.97; 10% is 16.497 -> 16.50
  CHECK(b.at("coupon") == nlohmann::json::parse(R"({"code":"WELCOME10","description":"10% off your first order","discount":1650})"));
  CHECK(b.at("total") == 14847);
  const auto removed = ann.c.del("/api/v1/basket/items/21", ann.token);
  REQUIRE(removed.status == 200);
  CHECK(body_of(removed).at("items").empty());
  CHECK(body_of(removed).at("coupon") == nlohmann::json::parse(R"({"code":"WELCOME10","description":"10% off your first order","discount":0})"));
  CHECK(body_of(removed).at("total") == 0);
  // A refusal on the way back, and a request id that comes back with the answer.
  http::Request r;
  r.method = "PUT";
  r.target = "/api/v1/basket/items/1";
  r.body = R"({"quantity":43})";
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Authorization", "Bearer " + ann.token);
  r.headers.add("X-Request-Id", "deferred-409");
  const auto refused = ann.c.send(r);
  CHECK(refused.status == 409);
  CHECK(refused.headers.get("X-Request-Id") == "deferred-409");
  CHECK(body_of(refused).at("detail") == "Only 42 of this product are available.");
  const auto metrics = ann.c.get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(eshop_http_requests_total{method="PUT",module="basket",route="/api/v1/basket/items/{productId}",status="200"} 1)"));
  CHECK_THAT(metrics, Catch::Contains(R"(eshop_http_requests_total{method="PUT",module="basket",route="/api/v1/basket/items/{productId}",status="409"} 1)"));
  CHECK_THAT(metrics, Catch::Contains(R"(eshop_http_requests_total{method="DELETE",module="basket",route="/api/v1/basket/items/{productId}",status="200"} 1)"));
  CHECK_THAT(metrics, Catch::Contains(R"(eshop_http_requests_total{method="POST",module="basket",route="/api/v1/basket/items",status="200"} 1)"));
}
