// The hand-written JSON of hot answers must be what nlohmann::json::dump() writes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <eshop/json_writer.hpp>

#include "basket/src/handlers.hpp"

using namespace eshop;

TEST_CASE("json::append_string escapes exactly as nlohmann::json::dump does", "[json]") {
  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  for (const std::string text : {std::string(), std::string("plain"), std::string("Caf\xc3\xa9 \xe2\x82\xac 5"),
                                 std::string("a \"quoted\" \\path\\\n\r\t\b\f"), every_ascii}) {
    std::string out;
    json::append_string(out, text);
    CHECK(out == nlohmann::json(text).dump());
  }
  std::string control;
  json::append_string(control, std::string("\x01\x1f\x7f", 3));
  CHECK(control == "\"\\u0001\\u001f\x7f\"");
}

TEST_CASE("json::append_int writes the whole int64 range", "[json]") {
  for (const std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42}, INT64_MAX, INT64_MIN}) {
    std::string out;
    json::append_int(out, v);
    CHECK(out == nlohmann::json(v).dump());
  }
}

TEST_CASE("a basket's JSON, written by hand, is exactly the documented shape", "[json][basket]") {
  basket::PricedBasket b;
  b.lines.push_back({ProductId{2}, "Trail \"Pro\" Shoe", Money::cents(12999), 2, 40, "/api/v1/catalog/images/x.svg"});
  b.lines.push_back({ProductId{7}, "Caf\xc3\xa9 Mug\n", Money::cents(450), 1, 0, ""});
  b.item_count = 3;
  b.subtotal = Money::cents(26448);
  b.coupon = basket::AppliedCoupon{"SAVE10", "10 % off", Money::cents(2645)};
  b.discount = Money::cents(2645);
  b.total = Money::cents(23803);
  CHECK(basket::basket_json(b, "USD") ==
        R"({"items":[{"productId":2,"name":"Trail \"Pro\" Shoe","unitPrice":12999,"quantity":2,"lineTotal":25998,)"
        R"("availableStock":40,"imageUrl":"/api/v1/catalog/images/x.svg"},{"productId":7,"name":"Café Mug\n",)"
        R"("unitPrice":450,"quantity":1,"lineTotal":450,"availableStock":0,"imageUrl":null}],"itemCount":3,)"
        R"("subtotal":26448,"coupon":{"code":"SAVE10","description":"10 % off","discount":2645},"discount":2645,)"
        R"("total":23803,"currency":"USD"})");
  basket::PricedBasket empty;
  CHECK(basket::basket_json(empty, "EUR") ==
        R"({"items":[],"itemCount":0,"subtotal":0,"coupon":null,"discount":0,"total":0,"currency":"EUR"})");
}
