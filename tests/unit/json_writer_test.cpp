// The hand-written JSON of hot answers must be what nlohmann::json::dump() writes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <eshop/json_writer.hpp>

#include "basket/src/handlers.hpp"
#include "catalog/src/read_model.hpp"

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

namespace {

// The catalog entry's JSON as it was built before, through an nlohmann tree: the reference.
std::pair<std::string, std::string> nlohmann_entry(const catalog::Product& p, const catalog::Snapshot& s) {
  auto name_of = [](const auto& map, std::int64_t id) {
    const auto it = map.find(id);
    return it == map.end() ? std::string{} : it->second.name;
  };
  auto ref = [](std::int64_t id, const std::string& name) { return nlohmann::ordered_json{{"id", id}, {"name", name}}; };
  nlohmann::ordered_json j = {{"id", p.id},
                              {"name", p.name},
                              {"description", p.description},
                              {"price", p.price},
                              {"currency", s.currency},
                              {"brand", ref(p.brand_id, name_of(s.brands, p.brand_id))},
                              {"category", ref(p.category_id, name_of(s.categories, p.category_id))},
                              {"availableStock", p.available_stock},
                              {"imageUrl", p.image_url.empty() ? nlohmann::ordered_json(nullptr)
                                                               : nlohmann::ordered_json(p.image_url)}};
  const auto summary = j.dump();
  nlohmann::ordered_json supplier = nullptr;
  if (p.supplier_id)
    if (auto it = s.suppliers.find(*p.supplier_id); it != s.suppliers.end())
      supplier = {{"id", it->second.id}, {"name", it->second.name}, {"country", it->second.country}};
  j["supplier"] = std::move(supplier);
  j["attributes"] = p.attributes;
  return {summary, j.dump()};
}

}  // namespace

TEST_CASE("a catalog entry's JSON, written by hand, is what the nlohmann tree wrote", "[json][catalog]") {
  std::vector<catalog::Product> products(3);
  products[0].id = 1;
  products[0].name = "Trail \"Pro\" Shoe\\";
  products[0].description = "Line one\nline two\ttabbed \x01 Caf\xc3\xa9";
  products[0].price = 12999;
  products[0].brand_id = 3;
  products[0].category_id = 5;
  products[0].supplier_id = 2;
  products[0].available_stock = 42;
  products[0].image_url = "/api/v1/catalog/images/trail.svg";
  products[0].attributes = {{"weight", "280 g"}, {"color", "Slate/\"Orange\""}, {"drop", "6 mm"}, {"fit \"true\"\\", "yes"}};
  products[1].id = 2;  // unknown brand, category and supplier, no image, no attributes
  products[1].name = "Plain";
  products[1].brand_id = 99;
  products[1].category_id = 98;
  products[1].supplier_id = 97;
  products[2].id = 3;  // no supplier at all
  products[2].name = "No supplier";
  products[2].brand_id = 3;
  products[2].category_id = 5;
  const auto snapshot = catalog::build_snapshot(products, {{3, {3, "Kestrel"}}}, {{5, {5, "Footwear"}}},
                                                {{2, {2, "Kiso \"Manufacturing\"", "JP"}}}, "USD");
  for (const auto& p : products) {
    INFO(p.id);
    const auto* entry = snapshot->find(p.id);
    REQUIRE(entry);
    const auto [summary, detail] = nlohmann_entry(p, *snapshot);
    CHECK(entry->summary_json == summary);
    CHECK(entry->detail_json == detail);
  }
  CHECK(snapshot->find(2)->detail_json ==
        R"({"id":2,"name":"Plain","description":"","price":0,"currency":"USD","brand":{"id":99,"name":""},)"
        R"("category":{"id":98,"name":""},"availableStock":0,"imageUrl":null,"supplier":null,"attributes":{}})");
}
