// Catalog writes: admin only, validated, reflected at once in the read model.
#include <catch2/catch.hpp>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

const std::string kNewProduct = R"({"name":"  Glacier Sunglasses ","description":"Category 4 lenses.","price":8999,
  "brandId":1,"categoryId":1,"supplierId":2,"availableStock":12,"imageUrl":"/images/glacier.jpg",
  "attributes":{"lens":"cat 4"},"id":777,"currency":"EUR"})";

}  // namespace

TEST_CASE("catalog writes need a token (401) and the admin role (403)", "[catalog][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto anonymous = c.post("/api/v1/catalog/products", kNewProduct);
  CHECK(anonymous.status == 401);
  CHECK(anonymous.headers.get("WWW-Authenticate") == "Bearer");
  CHECK(anonymous.headers.get("Content-Type") == "application/problem+json");
  CHECK(c.post("/api/v1/catalog/products", kNewProduct, "not-a-token").status == 401);
  const auto customer = server.customer_token("shopper@example.com");
  const auto forbidden = c.post("/api/v1/catalog/products", kNewProduct, customer);
  CHECK(forbidden.status == 403);
  CHECK(body_of(forbidden).at("detail") == "This route needs the admin role.");
  CHECK(c.put("/api/v1/catalog/products/1", R"({"price":1})", customer).status == 403);
  CHECK(c.del("/api/v1/catalog/products/1", customer).status == 403);
  CHECK(c.get("/api/v1/catalog/products").status == 200);
  CHECK(body_of(c.get("/api/v1/catalog/products")).at("totalItems") == 64);
}

TEST_CASE("an admin creates a product: 201, Location, and it is listed at once", "[catalog][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  auto c = server.client();
  const auto before = c.get("/api/v1/catalog/products?brand=1");
  const auto created = c.post("/api/v1/catalog/products", kNewProduct, admin);
  REQUIRE(created.status == 201);
  CHECK(created.headers.get("Location") == "/api/v1/catalog/products/65");
  CHECK(body_of(created) == nlohmann::json::parse(R"({"id":65,"name":"Glacier Sunglasses",
    "description":"Category 4 lenses.","price":8999,"currency":"USD","brand":{"id":1,"name":"Alpenglow"},
    "category":{"id":1,"name":"Apparel"},"availableStock":12,"imageUrl":"/images/glacier.jpg",
    "supplier":{"id":2,"name":"Harbor Trading Co.","country":"US"},"attributes":{"lens":"cat 4"}})"));
  const auto after = c.get("/api/v1/catalog/products?brand=1");
  CHECK(body_of(after).at("totalItems") == 10);
  CHECK(after.headers.get("ETag") != before.headers.get("ETag"));
  CHECK(body_of(c.get("/api/v1/catalog/brands"))[0].at("productCount") == 10);
  CHECK(body_of(c.get("/api/v1/catalog/products/65")).at("name") == "Glacier Sunglasses");
}

TEST_CASE("a product with invalid fields is 422 with every field named", "[catalog][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto res = c.post("/api/v1/catalog/products",
                          R"({"name":"","price":0,"brandId":99,"supplierId":"x","attributes":{"a":1}})",
                          server.admin_token());
  CHECK(res.status == 422);
  CHECK(body_of(res).at("errors") == nlohmann::json::parse(R"j({
    "attributes":["values must be strings (\"a\" is not)"], "supplierId":["must be a whole number"]})j"));
  const auto second = c.post("/api/v1/catalog/products", R"({"name":"","price":0,"brandId":99})", server.admin_token());
  CHECK(body_of(second).at("errors") == nlohmann::json::parse(R"({
    "brandId":["no brand has this id"], "categoryId":["is required"], "name":["must be 1 to 200 characters"],
    "price":["must be a whole number of cents greater than 0 and at most 1000000000"]})"));
  CHECK(body_of(c.get("/api/v1/catalog/products")).at("totalItems") == 64);
}

TEST_CASE("an update changes only the fields sent", "[catalog][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  auto c = server.client();
  const auto res = c.put("/api/v1/catalog/products/1", R"({"price":11999,"id":5,"availableStock":40})", admin);
  REQUIRE(res.status == 200);
  auto expected = body_of(c.get("/api/v1/catalog/products/1"));
  CHECK(body_of(res) == expected);
  CHECK(expected.at("id") == 1);
  CHECK(expected.at("price") == 11999);
  CHECK(expected.at("availableStock") == 40);
  CHECK(expected.at("name") == "Trailblazer 2 Running Shoe");
  CHECK(expected.at("attributes").at("drop") == "6 mm");
  const auto cheap = body_of(c.get("/api/v1/catalog/products?maxPrice=11999&q=trailblazer"));
  CHECK(cheap.at("totalItems") == 1);
}

TEST_CASE("updating a missing product is 404, with bad fields 422", "[catalog][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  auto c = server.client();
  CHECK(c.put("/api/v1/catalog/products/999", R"({"price":1})", admin).status == 404);
  const auto bad = c.put("/api/v1/catalog/products/1", R"({"categoryId":42,"availableStock":-1})", admin);
  CHECK(bad.status == 422);
  CHECK(body_of(bad).at("errors") == nlohmann::json::parse(R"({
    "availableStock":["must be a whole number from 0 to 1000000000"],"categoryId":["no category has this id"]})"));
  CHECK(body_of(c.get("/api/v1/catalog/products/1")).at("availableStock") == 42);
}

TEST_CASE("a deleted product is gone from detail, list and counts", "[catalog][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  auto c = server.client();
  const auto res = c.del("/api/v1/catalog/products/1", admin);
  CHECK(res.status == 204);
  CHECK(res.body.empty());
  CHECK(c.get("/api/v1/catalog/products/1").status == 404);
  CHECK(body_of(c.get("/api/v1/catalog/products")).at("totalItems") == 63);
  CHECK(body_of(c.get("/api/v1/catalog/brands"))[2].at("productCount") == 8);
  CHECK(c.del("/api/v1/catalog/products/1", admin).status == 404);
}

TEST_CASE("a list answered before a write shows the write at once, on every connection", "[catalog][http]") {
  test::TestServer server;
  const auto admin = server.admin_token();
  auto first = server.client(), second = server.client();  // connections go to the I/O threads in turn
  const std::string list = "/api/v1/catalog/products?q=trailblazer";
  for (auto* c : {&first, &second})
    CHECK(body_of(c->get(list)).at("items")[0].at("price") != 12345);
  REQUIRE(first.put("/api/v1/catalog/products/1", R"({"price":12345})", admin).status == 200);
  for (auto* c : {&first, &second}) {
    const auto page = body_of(c->get(list));
    CHECK(page.at("items")[0].at("id") == 1);
    CHECK(page.at("items")[0].at("price") == 12345);
  }
}

TEST_CASE("an admin uploads a product picture, served under a new name and cached for good, and bad input is refused",
          "[catalog][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto admin = server.admin_token();
  auto put = [&](const std::string& type, const std::string& body, const std::string& token, const char* id = "1") {
    http::Request r;
    r.method = "PUT";
    r.target = std::string("/api/v1/catalog/products/") + id + "/image";
    r.headers.add("Content-Type", type);
    r.headers.add("Authorization", "Bearer " + token);
    r.body = body;
    return c.send(r);
  };
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(200, 'x');
  const auto res = put("image/png", png, admin);
  INFO(res.body);
  REQUIRE(res.status == 200);
  const std::string url = test::body_of(res).at("imageUrl");
  CHECK(url.starts_with("/api/v1/catalog/images/p1-"));
  CHECK(url.ends_with(".png"));
  CHECK(test::body_of(c.get("/api/v1/catalog/products/1")).at("imageUrl") == url);
  const auto image = c.get(url);
  CHECK(image.status == 200);
  CHECK(image.body == png);
  CHECK(image.headers.get("Content-Type") == "image/png");
  CHECK(image.headers.get("Cache-Control") == "public, max-age=31536000, immutable");
  http::Request again;
  again.method = "GET";
  again.target = url;
  again.headers.add("If-None-Match", std::string(image.headers.get("ETag")));
  CHECK(c.send(again).status == 304);
  // A new picture, a new name; the old one is gone.
  const std::string gif = "GIF89a" + std::string(50, 'y');
  const auto second = put("image/gif", gif, admin);
  REQUIRE(second.status == 200);
  CHECK(test::body_of(second).at("imageUrl") != url);
  CHECK(c.get(url).status == 404);

  // Refused, each with a problem, and nothing changed.
  CHECK(put("image/png", png, server.customer_token("c@example.com")).status == 403);
  CHECK(put("text/plain", png, admin).status == 415);
  CHECK(put("image/svg+xml", "<svg/>", admin).status == 415);  // scripts can live in an SVG
  const auto liar = put("image/png", "GIF89a....", admin);
  CHECK(liar.status == 422);
  CHECK(test::body_of(liar).at("errors").at("body")[0] == "is not a PNG picture (its first bytes say otherwise)");
  CHECK(put("image/png", "", admin).status == 422);
  const auto big = put("image/png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(600 * 1024, 'z'), admin);
  CHECK(big.status == 413);
  CHECK(test::body_of(big).at("detail") == "A product picture is at most 512 KiB.");
  CHECK(put("image/png", png, admin, "9999").status == 404);
  CHECK(test::body_of(c.get("/api/v1/catalog/products/1")).at("imageUrl") == test::body_of(second).at("imageUrl"));
}
