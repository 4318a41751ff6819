// Coupons over HTTP: anyone may look one up; admins manage them.
#include <catch2/catch.hpp>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

TEST_CASE("anyone can look up a coupon by code, case-insensitively", "[discount][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto res = c.get("/api/v1/discounts/welcome10");
  REQUIRE(res.status == 200);
  CHECK(body_of(res) == nlohmann::json::parse(R"({"code":"WELCOME10","description":"10% off your first order",
    "type":"percent","value":10,"minSubtotal":0,"validFrom":null,"validUntil":null,"productId":null})"));
  CHECK(body_of(c.get("/api/v1/discounts/SUMMER2020")).at("validUntil") == "2020-08-31T23:59:59Z");
  const auto missing = c.get("/api/v1/discounts/NOPE");
  CHECK(missing.status == 404);
  CHECK(body_of(missing).at("detail") == "No coupon has this code.");
}

TEST_CASE("listing coupons is for admins", "[discount][http]") {
  test::TestServer server;
  auto c = server.client();
  CHECK(c.get("/api/v1/discounts").status == 401);
  CHECK(c.get("/api/v1/discounts", server.customer_token("c@example.com")).status == 403);
  const auto list = body_of(c.get("/api/v1/discounts", server.admin_token()));
  std::vector<std::string> codes;
  for (const auto& coupon : list) codes.push_back(coupon.at("code"));
  CHECK(codes == std::vector<std::string>{"SAVE20", "SUMMER2020", "TRAIL15", "WELCOME10"});
}

TEST_CASE("an admin creates, updates and deletes a coupon", "[discount][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  auto c = server.client();
  const auto created = c.post("/api/v1/discounts", R"({"code":"black-friday","description":"Black Friday",
    "type":"fixed","value":1500,"minSubtotal":5000,"validFrom":"2026-11-27T00:00:00Z",
    "validUntil":"2026-11-30T23:59:59+00:00"})", admin);
  REQUIRE(created.status == 201);
  CHECK(created.headers.get("Location") == "/api/v1/discounts/BLACK-FRIDAY");
  CHECK(body_of(created) == nlohmann::json::parse(R"({"code":"BLACK-FRIDAY","description":"Black Friday",
    "type":"fixed","value":1500,"minSubtotal":5000,"validFrom":"2026-11-27T00:00:00Z",
    "validUntil":"2026-11-30T23:59:59Z","productId":null})"));
  CHECK(c.post("/api/v1/discounts", R"({"code":"Black-Friday","type":"percent","value":5})", admin).status == 409);

  const auto updated = c.put("/api/v1/discounts/black-friday", R"({"value":2500,"code":"IGNORED"})", admin);
  REQUIRE(updated.status == 200);
  CHECK(body_of(updated).at("value") == 2500);
  CHECK(body_of(updated).at("minSubtotal") == 5000);
  CHECK(body_of(c.get("/api/v1/discounts/BLACK-FRIDAY")).at("value") == 2500);

  CHECK(c.del("/api/v1/discounts/Black-Friday", admin).status == 204);
  CHECK(c.get("/api/v1/discounts/BLACK-FRIDAY").status == 404);
  CHECK(c.del("/api/v1/discounts/BLACK-FRIDAY", admin).status == 404);
  CHECK(c.put("/api/v1/discounts/BLACK-FRIDAY", R"({"value":1})", admin).status == 404);
}

TEST_CASE("an invalid coupon is 422 with every field named", "[discount][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto res = c.post("/api/v1/discounts", R"({"code":"two words","type":"percent","value":150,
    "validFrom":"2026-12-01T00:00:00Z","validUntil":"yesterday","minSubtotal":-1})", server.admin_token());
  CHECK(res.status == 422);
  CHECK(body_of(res).at("errors") == nlohmann::json::parse(R"({
    "code":["must be 1 to 32 letters, digits, '-' or '_'"],
    "minSubtotal":["must be 0 to 1000000000 cents"],
    "validUntil":["must be an RFC 3339 time such as 2026-11-24T10:00:00Z, in the years 1900 to 2200"],
    "value":["must be a whole percent from 1 to 100"]})"));
  const auto backwards = c.post("/api/v1/discounts", R"({"code":"X","type":"bogus","value":5,
    "validFrom":"2026-12-01T00:00:00Z","validUntil":"2026-11-01T00:00:00Z"})", server.admin_token());
  CHECK(body_of(backwards).at("errors") == nlohmann::json::parse(R"({
    "type":["must be percent or fixed"],"validUntil":["must be after validFrom"]})"));
  CHECK(c.post("/api/v1/discounts", R"({"code":"X","type":"fixed","value":5})", server.customer_token("c@example.com"))
            .status == 403);
}
