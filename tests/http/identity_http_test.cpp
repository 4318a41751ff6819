// Register, login, logout and /me over HTTP.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

std::string registration(const std::string& email, const std::string& password = "password-123",
                         const std::string& name = "Ann Lee") {
  return nlohmann::json{{"email", email}, {"password", password}, {"name", name}}.dump();
}

std::string credentials(const std::string& email, const std::string& password) {
  return nlohmann::json{{"email", email}, {"password", password}}.dump();
}

}  // namespace

TEST_CASE("registering answers 201 with the user and never the password or its hash", "[identity][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto res = c.post("/api/v1/identity/register",
                          R"({"email":" Ann@Example.com ","password":"password-123","name":"Ann Lee","roles":["admin"]})");
  REQUIRE(res.status == 201);
  const auto body = body_of(res);
  CHECK(body.size() == 3);
  CHECK(body.at("email") == "ann@example.com");
  CHECK(body.at("name") == "Ann Lee");
  CHECK(body.at("id").get<std::string>().size() == 36);
  CHECK(res.body.find("argon2") == std::string::npos);
  CHECK(res.body.find("password") == std::string::npos);
}

TEST_CASE("a taken email is 409, case-insensitively", "[identity][http]") {
  test::TestServer server;
  auto c = server.client();
  REQUIRE(c.post("/api/v1/identity/register", registration("ann@example.com")).status == 201);
  const auto again = c.post("/api/v1/identity/register", registration("ANN@example.com"));
  CHECK(again.status == 409);
  CHECK(body_of(again).at("detail") == "An account with this email already exists.");
}

TEST_CASE("an invalid email or a short password is 422 naming the field", "[identity][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto res = c.post("/api/v1/identity/register", registration("not-an-email", "short"));
  CHECK(res.status == 422);
  CHECK(body_of(res).at("errors") == nlohmann::json::parse(R"({"email":["must be a valid email address"],
    "password":["must be at least 8 characters"]})"));
  const auto missing = c.post("/api/v1/identity/register", R"({"email":"a@b.co"})");
  CHECK(missing.status == 422);
  CHECK(body_of(missing).at("errors") == nlohmann::json::parse(R"({"name":["is required"],"password":["is required"]})"));
}

TEST_CASE("login answers a token, its expiry and the user, who is only a customer", "[identity][http]") {
  test::TestServer server;
  auto c = server.client();
  REQUIRE(c.post("/api/v1/identity/register", registration("ann@example.com")).status == 201);
  const auto res = c.post("/api/v1/identity/login", credentials("ANN@example.com", "password-123"));
  REQUIRE(res.status == 200);
  const auto body = body_of(res);
  CHECK(body.at("token").get<std::string>().size() == 43);
  CHECK(body.at("expiresAt").get<std::string>().size() == 20);
  CHECK(body.at("user").at("email") == "ann@example.com");
  CHECK(body.at("user").at("roles") == nlohmann::json::array({"customer"}));
  const auto me = c.get("/api/v1/identity/me", body.at("token"));
  CHECK(me.status == 200);
  CHECK(body_of(me) == body.at("user"));
}

TEST_CASE("a wrong password and an unknown email get the same 401", "[identity][http]") {
  test::TestServer server;
  auto c = server.client();
  REQUIRE(c.post("/api/v1/identity/register", registration("ann@example.com")).status == 201);
  const auto wrong = c.post("/api/v1/identity/login", credentials("ann@example.com", "password-124"));
  const auto unknown = c.post("/api/v1/identity/login", credentials("bob@example.com", "password-123"));
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.body == unknown.body);
  CHECK(body_of(wrong).at("detail") == "The email or password is incorrect.");
}

TEST_CASE("after logout the token is refused", "[identity][http]") {
  test::TestServer server;
  const auto token = server.customer_token("ann@example.com");
  auto c = server.client();
  CHECK(c.get("/api/v1/identity/me", token).status == 200);
  const auto out = c.post("/api/v1/identity/logout", "", token);
  CHECK(out.status == 204);
  const auto me = c.get("/api/v1/identity/me", token);
  CHECK(me.status == 401);
  CHECK(me.headers.get("WWW-Authenticate") == "Bearer");
  CHECK(c.post("/api/v1/identity/logout", "", token).status == 401);
}

TEST_CASE("the admin from ESHOP_ADMIN_EMAIL has the admin role", "[identity][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto me = body_of(c.get("/api/v1/identity/me", server.admin_token()));
  CHECK(me.at("email") == test::kAdminEmail);
  CHECK(me.at("roles") == nlohmann::json::array({"admin", "customer"}));
}

TEST_CASE("passwords and tokens are stored only as hashes", "[identity][http]") {
  test::TestServer server;
  const auto token = server.customer_token("ann@example.com");
  server.stop();
  std::string bytes;
  if (test::on_postgres()) {  // every row of identity's tables, as text
    bytes = server.dump("identity", {"users", "sessions"});
  } else {  // the whole file, whatever table or page a secret could hide in
    std::ifstream in(server.data_dir() / "identity.db", std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream wal(server.data_dir() / "identity.db-wal", std::ios::binary);
    bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  }
  REQUIRE(bytes.find("ann@example.com") != std::string::npos);  // we are reading the right file
  CHECK(bytes.find("password-123") == std::string::npos);
  CHECK(bytes.find(token) == std::string::npos);
  CHECK(bytes.find("$argon2id$") != std::string::npos);
}
