#include <catch2/catch.hpp>

#include <eshop/problem.hpp>
#include <eshop/router.hpp>

using namespace eshop;
using namespace eshop::http;

namespace {

Request req(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

Router sample() {
  Router router;
  auto s = router.scope("catalog");
  s.get("/api/v1/catalog/products", Access::anyone, [](Request&) { return Response::json(200, std::string("list")); });
  s.get("/api/v1/catalog/products/{id}", Access::anyone, [](Request& r) {
    return Response::json(200, std::string(r.param("id")));
  });
  s.del("/api/v1/catalog/products/{id}", Access::admin, [](Request&) { return Response::no_content(); });
  return router;
}

}  // namespace

TEST_CASE("a path parameter is matched and percent-decoded", "[kernel][unit]") {
  auto router = sample();
  auto r = req("GET", "/api/v1/catalog/products/a%20b?x=1");
  const auto m = router.match(r);
  REQUIRE(m.route);
  CHECK(m.route->pattern == "/api/v1/catalog/products/{id}");
  CHECK(m.route->module == "catalog");
  CHECK(r.param("id") == "a b");
}

TEST_CASE("a known path with another method reports the allowed methods", "[kernel][unit]") {
  auto router = sample();
  auto r = req("POST", "/api/v1/catalog/products/7");
  const auto m = router.match(r);
  CHECK(m.route == nullptr);
  CHECK(m.path_known);
  CHECK(m.allow == "GET, DELETE");
}

TEST_CASE("an unknown path matches nothing", "[kernel][unit]") {
  auto router = sample();
  auto r = req("GET", "/api/v1/catalog/products/7/extra");
  const auto m = router.match(r);
  CHECK(m.route == nullptr);
  CHECK_FALSE(m.path_known);
  auto empty = req("GET", "/api/v1/catalog/products/");
  CHECK(router.match(empty).route == nullptr);
}

TEST_CASE("query parameters are decoded and repeatable", "[kernel][unit]") {
  auto r = req("GET", "/x?brand=1&brand=Copper%20leaf&q=a+b&flag");
  CHECK(r.query_all("brand") == std::vector<std::string>{"1", "Copper leaf"});
  CHECK(r.query("q") == "a b");
  CHECK(r.query("flag") == "");
  CHECK_FALSE(r.query("missing"));
}

TEST_CASE("error codes map to HTTP statuses in one place", "[kernel][unit]") {
  CHECK(status_of(ErrorCode::validation) == 422);
  CHECK(status_of(ErrorCode::conflict) == 409);
  CHECK(status_of(ErrorCode::unauthorized) == 401);
  const auto p = problem(Error::invalid_field("price", "must be positive"));
  CHECK(p.status == 422);
  CHECK(p.headers.get("content-type") == "application/problem+json");
  CHECK(p.body ==
        R"({"type":"about:blank","title":"Unprocessable Content","status":422,"detail":"The request has invalid fields.","errors":{"price":["must be positive"]}})");
}

TEST_CASE("an internal error never shows its detail", "[kernel][unit]") {
  const auto p = problem(Error::make(ErrorCode::internal, "SELECT * FROM users failed at /var/lib"));
  CHECK(p.status == 500);
  CHECK(p.body == R"({"type":"about:blank","title":"Internal Server Error","status":500,"detail":"An unexpected error occurred."})");
}

TEST_CASE("the bearer token is read case-insensitively from Authorization", "[kernel][unit]") {
  auto r = req("GET", "/");
  r.headers.add("authorization", "bearer abc.DEF");
  CHECK(bearer_token(r) == "abc.DEF");
  auto basic = req("GET", "/");
  basic.headers.add("Authorization", "Basic dXNlcjpwYXNz");
  CHECK(bearer_token(basic).empty());
}

TEST_CASE("find names the route a request would take, and a route can say it runs on the I/O thread",
          "[kernel][unit]") {
  Router router;
  auto s = router.scope("basket");
  s.get("/api/v1/basket", Access::user, [](Request&) { return Response::no_content(); });
  s.put("/api/v1/basket/items/{productId}", Access::user, [](Request&) { return Response::no_content(); });
  s.on_io_thread();
  auto put = req("PUT", "/api/v1/basket/items/7");
  const auto* found = router.find(put);
  REQUIRE(found);
  CHECK(found->pattern == "/api/v1/basket/items/{productId}");
  CHECK(found->runs == Runs::io_thread);
  CHECK(put.path_params.empty());  // nothing filled in
  const auto* get = router.find(req("HEAD", "/api/v1/basket"));
  REQUIRE(get);
  CHECK(get->runs == Runs::worker);
  CHECK(router.find(req("DELETE", "/api/v1/basket/items/7")) == nullptr);  // the path, not the method
  CHECK(router.find(req("PUT", "/api/v1/basket/items/")) == nullptr);
}
