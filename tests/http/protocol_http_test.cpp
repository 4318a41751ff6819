// The HTTP contract's conventions: limits, media types, malformed input, request ids.
#include <catch2/catch.hpp>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

test::TestServer& server() {
  static test::TestServer s;
  return s;
}

http::Request post(std::string target, std::string body, std::string content_type = "application/json") {
  http::Request r;
  r.method = "POST";
  r.target = std::move(target);
  if (!content_type.empty()) r.headers.add("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

void check_problem(const http::Response& res, int status, const std::string& detail) {
  INFO(res.body);
  CHECK(res.status == status);
  CHECK(res.headers.get("Content-Type") == "application/problem+json");
  const auto body = body_of(res);
  CHECK(body.at("type") == "about:blank");
  CHECK(body.at("status") == status);
  CHECK(body.at("title") == std::string(http::reason_phrase(status)));
  CHECK(body.at("detail") == detail);
}

}  // namespace

TEST_CASE("a body over 1 MiB is 413 and the server keeps serving", "[server][http]") {
  auto c = server().client();
  check_problem(c.send(post("/api/v1/identity/register", std::string(1024 * 1024 + 1, 'x'))), 413,
                "The request body is larger than 1 MiB.");
  auto fresh = server().client();
  CHECK(fresh.get("/health/live").status == 200);
}

TEST_CASE("exactly 1 MiB of body is accepted by the transport", "[server][http]") {
  auto c = server().client();
  std::string body = R"({"email":"x@example.com","password":"password-123","name":")";
  body += std::string(1024 * 1024 - body.size() - 2, 'n') + "\"}";
  REQUIRE(body.size() == 1024 * 1024);
  const auto res = c.send(post("/api/v1/identity/register", body));
  CHECK(res.status == 422);  // the name is too long: the handler saw the whole body
}

TEST_CASE("header fields over 16 KiB are 431", "[server][http]") {
  auto c = server().client();
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/catalog/products";
  r.headers.add("X-Padding", std::string(17 * 1024, 'h'));
  check_problem(c.send(r), 431, "The request header fields are larger than 16 KiB.");
}

TEST_CASE("a non-JSON body is 415", "[server][http]") {
  auto c = server().client();
  check_problem(c.send(post("/api/v1/identity/login", "email=a&password=b", "application/x-www-form-urlencoded")), 415,
                "The request body must be application/json.");
  check_problem(c.send(post("/api/v1/identity/login", "{}", "")), 415, "The request body must be application/json.");
}

TEST_CASE("malformed or too deeply nested JSON is 400", "[server][http]") {
  auto c = server().client();
  check_problem(c.send(post("/api/v1/identity/login", R"({"email": "a@b.co", )")), 400,
                "The request body is not valid JSON.");
  const std::string deep = "{\"email\":" + std::string(64, '[') + std::string(64, ']') + "}";
  check_problem(c.send(post("/api/v1/identity/login", deep)), 400, "The JSON body is nested deeper than 64 levels.");
  check_problem(c.send(post("/api/v1/identity/login", "[]")), 400, "The request body must be a JSON object.");
}

TEST_CASE("an unknown route is 404 and a wrong method 405 with Allow", "[server][http]") {
  auto c = server().client();
  check_problem(c.get("/api/v1/nothing-here"), 404, "No route matches this path.");
  const auto res = c.del("/api/v1/catalog/brands");
  check_problem(res, 405, "This path does not accept DELETE.");
  CHECK(res.headers.get("Allow") == "GET");
}

TEST_CASE("every response carries X-Request-Id, echoing a sane incoming one", "[server][http]") {
  auto c = server().client();
  http::Request r;
  r.method = "GET";
  r.target = "/health/live";
  r.headers.add("X-Request-Id", "trace-abc.123");
  CHECK(c.send(r).headers.get("X-Request-Id") == "trace-abc.123");
  r.headers.set("X-Request-Id", "bad id with spaces");
  CHECK(c.send(r).headers.get("X-Request-Id").size() == 36);
  CHECK(c.get("/api/v1/nothing").headers.get("X-Request-Id").size() == 36);
}

TEST_CASE("a garbled request line is 400 and does not take the server down", "[server][http]") {
  auto c = server().client();
  http::Request r;
  r.method = "GET";
  r.target = "/has space";  // a target with a space breaks the request line
  const auto res = c.send(r);
  CHECK(res.status == 400);
  auto fresh = server().client();
  CHECK(fresh.get("/health/live").status == 200);
}

TEST_CASE("keep-alive serves many requests on one connection", "[server][http]") {
  auto c = server().client();
  for (int i = 0; i < 50; ++i) REQUIRE(c.get("/api/v1/catalog/products/2").status == 200);
}

TEST_CASE("login attempts are throttled per client with 429 and Retry-After; catalog reads are not", "[server][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.rate_limits = {};  // the shipped defaults
  test::TestServer limited(config);
  auto c = limited.client();
  const std::string wrong = R"({"email":"nobody@example.com","password":"guess-guess"})";
  for (int i = 0; i < 10; ++i) REQUIRE(c.post("/api/v1/identity/login", wrong).status == 401);
  const auto refused = c.post("/api/v1/identity/login", wrong);
  check_problem(refused, 429, "Too many requests from this client; retry after 2 s.");
  CHECK(refused.headers.get("Retry-After") == "2");
  for (int i = 0; i < 100; ++i) REQUIRE(c.get("/api/v1/catalog/products/1").status == 200);
  CHECK(c.get("/health/ready").status == 200);
}
