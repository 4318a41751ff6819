// A visitor without an account has a basket (X-Basket-Token); logging in or registering merges it
// into the user's: quantities added, capped by stock; the user's coupon wins over the guest's.
#include <catch2/catch.hpp>

#include "support/shop.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using namespace eshop::test;

namespace {

// One guest: its own basket token, sent with every call, and a bearer token once it has logged in.
struct Guest {
  http::Client c;
  std::string basket_token;
  std::string bearer;

  explicit Guest(const TestServer& server) : c(server.client()) {
    const auto res = c.post("/api/v1/basket/guest", "");
    REQUIRE(res.status == 201);
    basket_token = body_of(res).at("basketToken");
  }
  http::Response send(const std::string& method, const std::string& target, const std::string& body = "",
                      bool with_basket = true) {
    http::Request r;
    r.method = method;
    r.target = target;
    if (!body.empty()) {
      r.headers.add("Content-Type", "application/json");
      r.body = body;
    }
    if (with_basket) r.headers.add("X-Basket-Token", basket_token);
    if (!bearer.empty()) r.headers.add("Authorization", "Bearer " + bearer);
    return c.send(r);
  }
  http::Response add(int product, int quantity) {
    return send("POST", "/api/v1/basket/items",
                nlohmann::json{{"productId", product}, {"quantity", quantity}}.dump());
  }
};

std::map<int, int> lines_of(const nlohmann::json& basket) {
  std::map<int, int> out;
  for (const auto& l : basket.at("items")) out[l.at("productId").get<int>()] = l.at("quantity").get<int>();
  return out;
}

}  // namespace

TEST_CASE("a guest fills a basket with its token, without one or with a bad one gets 401, and cannot check out",
          "[basket][http]") {
  TestServer server;
  Guest guest(server);
  CHECK(guest.basket_token.size() == 43);  // 256 random bits, base64url
  CHECK(guest.add(1, 2).status == 200);
  CHECK(guest.send("PUT", "/api/v1/basket/coupon", R"({"code":"WELCOME10"})").status == 200);
  const auto basket = body_of(guest.send("GET", "/api/v1/basket"));
  CHECK(lines_of(basket) == std::map<int, int>{{1, 2}});
  CHECK(basket.at("coupon").at("code") == "WELCOME10");

  auto c = server.client();
  const auto nobody = c.get("/api/v1/basket");
  CHECK(nobody.status == 401);
  CHECK(body_of(nobody).at("detail") ==
        "Log in, or send the X-Basket-Token of a guest basket (POST /api/v1/basket/guest).");
  http::Request bad;
  bad.method = "GET";
  bad.target = "/api/v1/basket";
  bad.headers.add("X-Basket-Token", "short");
  CHECK(c.send(bad).status == 401);
  // Another guest sees its own, empty, basket.
  Guest other(server);
  CHECK(body_of(other.send("GET", "/api/v1/basket")).at("items").empty());
  // Checkout needs an account.
  const auto checkout = guest.send("POST", "/api/v1/basket/checkout", checkout_body());
  CHECK(checkout.status == 401);
  // A forged bearer token is refused, guest basket or not.
  guest.bearer = "not-a-token";
  CHECK(guest.send("GET", "/api/v1/basket").status == 401);
}

TEST_CASE("logging in merges the guest's basket into the user's: quantities added, capped by stock",
          "[basket][http]") {
  TestServer server;
  const auto admin = server.admin_token();
  auto c = server.client();
  REQUIRE(c.put("/api/v1/catalog/products/3", R"({"availableStock":2})", admin).status == 200);
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  ann.add(3, 1);
  REQUIRE(c.put("/api/v1/basket/coupon", R"({"code":"SAVE20"})", ann.token).status == 200);

  Guest guest(server);
  REQUIRE(guest.add(1, 2).status == 200);
  REQUIRE(guest.add(3, 2).status == 200);
  REQUIRE(guest.add(4, 1).status == 200);
  REQUIRE(guest.send("PUT", "/api/v1/basket/coupon", R"({"code":"WELCOME10"})").status == 200);

  // The guest logs in as ann: the first basket call with both tokens merges.
  guest.bearer = ann.token;
  const auto merged = guest.send("GET", "/api/v1/basket");
  REQUIRE(merged.status == 200);
  CHECK(lines_of(body_of(merged)) == std::map<int, int>{{1, 3}, {3, 2}, {4, 1}});  // 1+2; 1+2 capped at 2; new
  CHECK(body_of(merged).at("coupon").at("code") == "SAVE20");  // the user's coupon wins
  // The guest's basket is empty now, and a second merge changes nothing.
  guest.bearer.clear();
  CHECK(body_of(guest.send("GET", "/api/v1/basket")).at("items").empty());
  guest.bearer = ann.token;
  CHECK(lines_of(body_of(guest.send("GET", "/api/v1/basket"))) == std::map<int, int>{{1, 3}, {3, 2}, {4, 1}});

  // A user without a coupon takes the guest's.
  Shopper bob(server, "bob@example.com");
  Guest second(server);
  REQUIRE(second.add(2, 1).status == 200);
  REQUIRE(second.send("PUT", "/api/v1/basket/coupon", R"({"code":"WELCOME10"})").status == 200);
  second.bearer = bob.token;
  const auto bobs = body_of(second.send("GET", "/api/v1/basket"));
  CHECK(lines_of(bobs) == std::map<int, int>{{2, 1}});
  CHECK(bobs.at("coupon").at("code") == "WELCOME10");
  // And checks out what the guest chose.
  CHECK(bob.checkout().status == 202);
}

TEST_CASE("a line changed with both tokens merges the guest's basket first, then changes the user's", "[basket][http]") {
  TestServer server;
  Guest guest(server);
  REQUIRE(guest.add(2, 1).status == 200);
  Shopper ann(server, "ann@example.com");
  guest.bearer = ann.token;
  // A line's change is answered on the I/O thread only when nothing waits; a merge is a second
  // write, so this one goes to a worker and merges there, as every other basket call does.
  const auto res = guest.add(3, 2);
  REQUIRE(res.status == 200);
  CHECK(lines_of(body_of(res)) == std::map<int, int>{{2, 1}, {3, 2}});
  const auto set = guest.send("PUT", "/api/v1/basket/items/2", R"({"quantity":4})");
  REQUIRE(set.status == 200);
  CHECK(lines_of(body_of(set)) == std::map<int, int>{{2, 4}, {3, 2}});
  guest.bearer.clear();
  CHECK(body_of(guest.send("GET", "/api/v1/basket")).at("items").empty());
}
