#include <catch2/catch.hpp>

#include "catalog/src/query.hpp"
#include "catalog/src/read_model.hpp"

using namespace eshop;
using namespace eshop::catalog;

namespace {

Product product(std::int64_t id, std::string name, std::int64_t price, std::int64_t brand, std::int64_t category,
                std::int64_t stock, std::string created = "2026-01-01T00:00:00Z") {
  Product p;
  p.id = id;
  p.name = std::move(name);
  p.description = "A fine " + p.name;
  p.price = price;
  p.brand_id = brand;
  p.category_id = category;
  p.available_stock = stock;
  p.created_at = p.updated_at = std::move(created);
  return p;
}

std::shared_ptr<const Snapshot> sample() {
  return build_snapshot({product(1, "banana boot", 5000, 1, 1, 3), product(2, "Apple Jacket", 12000, 2, 2, 0),
                         product(3, "cherry Cap", 2500, 1, 2, 9, "2026-03-01T00:00:00Z"),
                         product(4, "Date Drybag", 5000, 3, 3, 1, "2026-02-01T00:00:00Z")},
                        {{1, {1, "Kestrel"}}, {2, {2, "Alpenglow"}}, {3, {3, "Tidewater"}}},
                        {{1, {1, "Footwear"}}, {2, {2, "Apparel"}}, {3, {3, "Bags"}}}, {}, "USD");
}

http::Request request(std::string query) {
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/catalog/products?" + query;
  return r;
}

std::vector<std::int64_t> ids(const std::string& query) {
  const auto q = parse_list_query(request(query));
  REQUIRE(q);
  std::vector<std::int64_t> out;
  const auto snapshot = sample();  // outlives the loop: the result points into it
  for (const auto* e : run_query(*snapshot, *q).items) out.push_back(e->product.id);
  return out;
}

FieldErrors errors(const std::string& query) {
  const auto q = parse_list_query(request(query));
  REQUIRE_FALSE(q);
  CHECK(q.error().code == ErrorCode::validation);
  return q.error().fields;
}

}  // namespace

TEST_CASE("products sort by name, case-insensitively, by default", "[catalog][unit]") {
  CHECK(ids("") == std::vector<std::int64_t>{2, 1, 3, 4});
}

TEST_CASE("price sorts break ties by name, newest sorts by creation time", "[catalog][unit]") {
  CHECK(ids("sort=price") == std::vector<std::int64_t>{3, 1, 4, 2});
  CHECK(ids("sort=-price") == std::vector<std::int64_t>{2, 1, 4, 3});
  CHECK(ids("sort=newest") == std::vector<std::int64_t>{3, 4, 2, 1});
}

TEST_CASE("brand and category filter by id or exact name, any of several", "[catalog][unit]") {
  CHECK(ids("brand=1") == std::vector<std::int64_t>{1, 3});
  CHECK(ids("brand=kestrel") == std::vector<std::int64_t>{1, 3});
  CHECK(ids("brand=Kestrel,3") == std::vector<std::int64_t>{1, 3, 4});
  CHECK(ids("brand=Kestrel&brand=Tidewater") == std::vector<std::int64_t>{1, 3, 4});
  CHECK(ids("brand=Kestrel&category=Apparel") == std::vector<std::int64_t>{3});
  CHECK(ids("brand=Kes").empty());
  CHECK(ids("brand=99").empty());
}

TEST_CASE("q matches name or description case-insensitively", "[catalog][unit]") {
  CHECK(ids("q=CAP") == std::vector<std::int64_t>{3});
  CHECK(ids("q=a%20fine%20date") == std::vector<std::int64_t>{4});
  CHECK(ids("q=zebra").empty());
}

TEST_CASE("price bounds are inclusive and inStock hides sold-out products", "[catalog][unit]") {
  CHECK(ids("minPrice=5000&maxPrice=5000") == std::vector<std::int64_t>{1, 4});
  CHECK(ids("maxPrice=4999") == std::vector<std::int64_t>{3});
  CHECK(ids("inStock=true") == std::vector<std::int64_t>{1, 3, 4});
  CHECK(ids("inStock=false") == std::vector<std::int64_t>{2, 1, 3, 4});
}

TEST_CASE("pages are counted from 1 and the last may be short", "[catalog][unit]") {
  CHECK(ids("pageSize=3&page=1") == std::vector<std::int64_t>{2, 1, 3});
  CHECK(ids("pageSize=3&page=2") == std::vector<std::int64_t>{4});
  CHECK(ids("pageSize=3&page=3").empty());
  CHECK(ids("pageSize=3&page=9223372036854775807").empty());
  const auto q = parse_list_query(request("pageSize=3&page=2"));
  const auto snapshot = sample();
  const auto r = run_query(*snapshot, *q);
  CHECK(r.total_items == 4);
  CHECK(r.total_pages == 2);
  CHECK(page_json(r, *q).ends_with(R"(],"page":2,"pageSize":3,"totalItems":4,"totalPages":2})"));
}

TEST_CASE("bad list parameters are 422 with the parameter named", "[catalog][unit]") {
  CHECK(errors("sort=cheapest") == FieldErrors{{"sort", {"must be one of name, price, -price, newest"}}});
  CHECK(errors("minPrice=abc") == FieldErrors{{"minPrice", {"must be a whole number of cents, 0 or more"}}});
  CHECK(errors("maxPrice=1.5") == FieldErrors{{"maxPrice", {"must be a whole number of cents, 0 or more"}}});
  CHECK(errors("pageSize=101") == FieldErrors{{"pageSize", {"must be a whole number from 1 to 100"}}});
  CHECK(errors("pageSize=0&page=0") == FieldErrors{{"page", {"must be a whole number, 1 or more"}},
                                                   {"pageSize", {"must be a whole number from 1 to 100"}}});
  CHECK(errors("minPrice=10&maxPrice=5") == FieldErrors{{"minPrice", {"must not be greater than maxPrice"}}});
  CHECK(errors("inStock=yes") == FieldErrors{{"inStock", {"must be true or false"}}});
}

TEST_CASE("the same query spelled differently shares one cache key", "[catalog][unit]") {
  const auto a = parse_list_query(request("brand=Kestrel,1&sort=price"));
  const auto b = parse_list_query(request("sort=price&brand=1&brand=KESTREL"));
  CHECK(a->cache_key() == b->cache_key());
  CHECK(a->cache_key() != parse_list_query(request("brand=1"))->cache_key());
}

TEST_CASE("replacing a product in a snapshot keeps the others and recounts brands", "[catalog][unit]") {
  const auto before = sample();
  auto changed = before->find(1)->product;
  changed.brand_id = 2;
  const auto after = with_product(*before, 1, &changed);
  CHECK(after->find(2) == before->find(2));  // untouched entries are shared, not rebuilt
  CHECK(after->find(1)->product.brand_id == 2);
  CHECK(after->brands_json ==
        R"([{"id":2,"name":"Alpenglow","productCount":2},{"id":1,"name":"Kestrel","productCount":1},{"id":3,"name":"Tidewater","productCount":1}])");
  const auto removed = with_product(*after, 3, nullptr);
  CHECK(removed->products.size() == 3);
  CHECK(removed->find(3) == nullptr);
}
