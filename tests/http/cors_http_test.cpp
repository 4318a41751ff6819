// CORS (the Fetch standard): configured browser origins may call the API; others, and every
// origin by default, get no Access-Control-Allow-Origin, and their preflight is refused.
#include <catch2/catch.hpp>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

http::Request with_origin(std::string method, std::string target, std::string origin) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers.add("Origin", std::move(origin));
  return r;
}

http::Request preflight(std::string target, std::string origin, std::string method) {
  auto r = with_origin("OPTIONS", std::move(target), std::move(origin));
  r.headers.add("Access-Control-Request-Method", std::move(method));
  r.headers.add("Access-Control-Request-Headers", "authorization, content-type, idempotency-key");
  return r;
}

}  // namespace

TEST_CASE("an allowed origin gets Access-Control-Allow-Origin and the exposed headers", "[cors][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.cors_origins = {"https://shop.example", "http://localhost:5173"};
  test::TestServer server(config);
  auto c = server.client();
  const auto res = c.send(with_origin("GET", "/api/v1/catalog/products/1", "https://shop.example"));
  CHECK(res.status == 200);
  CHECK(res.headers.get("Access-Control-Allow-Origin") == "https://shop.example");
  CHECK(res.headers.get("Access-Control-Expose-Headers") == "Location, ETag, Retry-After, X-Request-Id");
  CHECK(res.headers.get("Vary") == "Origin");
  const auto other = c.send(with_origin("GET", "/api/v1/catalog/products/1", "https://evil.example"));
  CHECK(other.status == 200);  // the server answers; the browser keeps the answer from the page
  CHECK_FALSE(other.headers.contains("Access-Control-Allow-Origin"));
}

TEST_CASE("a preflight from an allowed origin is answered with the methods, headers and max-age", "[cors][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.cors_origins = {"https://shop.example"};
  test::TestServer server(config);
  auto c = server.client();
  const auto res = c.send(preflight("/api/v1/basket/items/7", "https://shop.example", "PUT"));
  CHECK(res.status == 204);
  CHECK(res.headers.get("Access-Control-Allow-Origin") == "https://shop.example");
  CHECK(res.headers.get("Access-Control-Allow-Methods") == "PUT, DELETE");
  CHECK(res.headers.get("Access-Control-Allow-Headers") ==
        "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Basket-Token, X-Request-Id");
  CHECK(res.headers.get("Access-Control-Max-Age") == "600");
  const auto refused = c.send(preflight("/api/v1/basket/items/7", "https://evil.example", "PUT"));
  CHECK(refused.status == 403);
  CHECK(body_of(refused).at("detail") == "This origin may not call the API from a browser (CORS).");
  CHECK_FALSE(refused.headers.contains("Access-Control-Allow-Origin"));
  CHECK(c.send(preflight("/api/v1/nothing", "https://shop.example", "GET")).status == 404);
}

TEST_CASE("by default no origin is allowed: same-origin only", "[cors][http]") {
  test::TempDir dir;
  test::TestServer server(test::test_config(dir.path()));
  auto c = server.client();
  CHECK(c.send(preflight("/api/v1/catalog/products", "https://shop.example", "GET")).status == 403);
  const auto res = c.send(with_origin("GET", "/api/v1/catalog/products/1", "https://shop.example"));
  CHECK(res.status == 200);
  CHECK_FALSE(res.headers.contains("Access-Control-Allow-Origin"));
  CHECK_FALSE(res.headers.contains("Vary"));
}
