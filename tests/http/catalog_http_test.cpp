// The catalog's read routes over HTTP, against the demo catalog (64 products).
#include <catch2/catch.hpp>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

test::TestServer& server() {
  static test::TestServer s;  // read-only tests share one server
  return s;
}

std::vector<std::string> names(const nlohmann::json& page) {
  std::vector<std::string> out;
  for (const auto& item : page.at("items")) out.push_back(item.at("name"));
  return out;
}

nlohmann::json get_ok(const std::string& target) {
  auto c = server().client();
  const auto res = c.get(target);
  INFO(target << " -> " << res.body);
  REQUIRE(res.status == 200);
  CHECK(res.headers.get("Content-Type") == "application/json");
  return body_of(res);
}

}  // namespace

TEST_CASE("the product list is paged and sorted by name", "[catalog][http]") {
  const auto page = get_ok("/api/v1/catalog/products");
  CHECK(page.at("page") == 1);
  CHECK(page.at("pageSize") == 20);
  CHECK(page.at("totalItems") == 64);
  CHECK(page.at("totalPages") == 4);
  REQUIRE(page.at("items").size() == 20);
  const auto all = names(page);
  CHECK(std::vector<std::string>(all.begin(), all.begin() + 5) ==
        std::vector<std::string>{"Action Camera 4K", "Alpine 4-Season Tent", "Ascent 45 Backpack",
                                 "Basecamp Camp Slipper", "Beanie"});
  const auto last = get_ok("/api/v1/catalog/products?page=4");
  CHECK(names(last) ==
        std::vector<std::string>{"Voyager 65 Trekking Pack", "Water Filter Squeeze", "Waterproof Tote", "Wind Vest"});
  CHECK(get_ok("/api/v1/catalog/products?page=5").at("items").empty());
}

TEST_CASE("a product summary has exactly the documented fields", "[catalog][http]") {
  const auto page = get_ok("/api/v1/catalog/products?q=trailblazer");
  REQUIRE(page.at("items").size() == 1);
  CHECK(page.at("items")[0] == nlohmann::json::parse(R"({
    "id": 1, "name": "Trailblazer 2 Running Shoe",
    "description": "Lightweight trail runner with a rock plate and a grippy lugged outsole for technical terrain.",
    "price": 12999, "currency": "USD", "brand": {"id": 3, "name": "Kestrel"},
    "category": {"id": 5, "name": "Footwear"}, "availableStock": 42,
    "imageUrl": "/api/v1/catalog/images/trailblazer-2-running-shoe.svg"})"));
}

TEST_CASE("brand and category filters combine, by name or id", "[catalog][http]") {
  const std::vector<std::string> kestrel_footwear = {"Kestrel Racing Flat", "Tempo Road Running Shoe",
                                                     "Trailblazer 2 Running Shoe"};
  CHECK(names(get_ok("/api/v1/catalog/products?brand=Kestrel&category=Footwear")) == kestrel_footwear);
  CHECK(names(get_ok("/api/v1/catalog/products?brand=3&category=5")) == kestrel_footwear);
  CHECK(get_ok("/api/v1/catalog/products?brand=Kestrel,Tidewater").at("totalItems") == 17);
  CHECK(get_ok("/api/v1/catalog/products?brand=Kestrel&brand=7").at("totalItems") == 17);
  CHECK(get_ok("/api/v1/catalog/products?category=Backpacks%20%26%20Bags").at("totalItems") == 12);
  CHECK(get_ok("/api/v1/catalog/products?brand=Nobody").at("totalItems") == 0);
}

TEST_CASE("text, price and stock filters and the sorts", "[catalog][http]") {
  CHECK(names(get_ok("/api/v1/catalog/products?q=MERINO")) ==
        std::vector<std::string>{"Merino Base Layer Top", "Merino Hiking Sock (3 pack)"});
  CHECK(names(get_ok("/api/v1/catalog/products?minPrice=5000&maxPrice=6000")) ==
        std::vector<std::string>{"Drift Water Sandal", "Smart Bike Light Set", "Summit Sack 18", "Sun Hoodie"});
  CHECK(get_ok("/api/v1/catalog/products?inStock=true").at("totalItems") == 59);
  const auto cheap = get_ok("/api/v1/catalog/products?sort=price&pageSize=3");
  CHECK(names(cheap) == std::vector<std::string>{"Beanie", "Trail Gaiter", "Dry Bag 20L"});
  const auto dear = get_ok("/api/v1/catalog/products?sort=-price&pageSize=2");
  CHECK(names(dear) == std::vector<std::string>{"Alpine 4-Season Tent", "Summit Mountaineering Boot"});
  CHECK(get_ok("/api/v1/catalog/products?sort=newest&pageSize=1").at("items")[0].at("id") == 64);
}

TEST_CASE("invalid list parameters are 422 problem details", "[catalog][http]") {
  auto c = server().client();
  const auto res = c.get("/api/v1/catalog/products?sort=cheapest&minPrice=abc&pageSize=101");
  CHECK(res.status == 422);
  CHECK(res.headers.get("Content-Type") == "application/problem+json");
  CHECK(body_of(res) == nlohmann::json::parse(R"({"type":"about:blank","title":"Unprocessable Content","status":422,
    "detail":"The query parameters are invalid.",
    "errors":{"minPrice":["must be a whole number of cents, 0 or more"],
              "pageSize":["must be a whole number from 1 to 100"],
              "sort":["must be one of name, price, -price, newest"]}})"));
}

TEST_CASE("a list answers 304 to a matching If-None-Match", "[catalog][http]") {
  auto c = server().client();
  const auto first = c.get("/api/v1/catalog/products?brand=Kestrel");
  const std::string etag(first.headers.get("ETag"));
  REQUIRE(etag.size() > 2);
  http::Request again;
  again.method = "GET";
  again.target = "/api/v1/catalog/products?brand=kestrel";  // same query, other spelling
  again.headers.add("If-None-Match", etag);
  const auto cached = c.send(again);
  CHECK(cached.status == 304);
  CHECK(cached.body.empty());
  CHECK(cached.headers.get("ETag") == etag);
  again.headers.set("If-None-Match", "\"something-else\"");
  CHECK(c.send(again).status == 200);
}

TEST_CASE("product detail adds supplier and attributes", "[catalog][http]") {
  const auto p = get_ok("/api/v1/catalog/products/1");
  CHECK(p.at("supplier") == nlohmann::json::parse(R"({"id":3,"name":"Kiso Manufacturing","country":"JP"})"));
  CHECK(p.at("attributes") == nlohmann::json::parse(R"({"weight":"280 g","drop":"6 mm","color":"Slate/Orange"})"));
  CHECK(p.at("availableStock") == 42);
  CHECK(p.at("price") == 12999);
}

TEST_CASE("an unknown or malformed product id is 404", "[catalog][http]") {
  auto c = server().client();
  for (const auto* target : {"/api/v1/catalog/products/999999", "/api/v1/catalog/products/abc",
                             "/api/v1/catalog/products/-1"}) {
    const auto res = c.get(target);
    INFO(target);
    CHECK(res.status == 404);
    CHECK(body_of(res).at("detail") == "No product has this id.");
  }
}

TEST_CASE("brands and categories list with product counts", "[catalog][http]") {
  CHECK(get_ok("/api/v1/catalog/brands") == nlohmann::json::parse(R"([
    {"id":1,"name":"Alpenglow","productCount":9},{"id":2,"name":"Copperleaf","productCount":8},
    {"id":3,"name":"Kestrel","productCount":9},{"id":4,"name":"Northwind Gear","productCount":10},
    {"id":5,"name":"Riverstone","productCount":10},{"id":6,"name":"Summit Labs","productCount":10},
    {"id":7,"name":"Tidewater","productCount":8}])"));
  CHECK(get_ok("/api/v1/catalog/categories") == nlohmann::json::parse(R"([
    {"id":1,"name":"Apparel","productCount":14},{"id":2,"name":"Backpacks & Bags","productCount":12},
    {"id":3,"name":"Camping","productCount":12},{"id":4,"name":"Electronics","productCount":12},
    {"id":5,"name":"Footwear","productCount":14}])"));
}
