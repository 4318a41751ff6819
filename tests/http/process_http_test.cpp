// The real binary: `eshop serve` starts, answers, and exits 0 on SIGTERM.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>


#include "support/child_process.hpp"
#include "support/shop.hpp"
#include "support/sqlite_count.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::sqlite_count;

namespace {

}  // namespace

TEST_CASE("eshop serve starts, serves, and exits 0 on SIGTERM", "[process][http]") {
  test::TempDir dir;
  test::Child child({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir.path().string()});
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  const auto json = nlohmann::json::parse(line);
  CHECK(json.at("level") == "info");
  const auto port = json.at("port").get<std::uint16_t>();
  http::Client c("127.0.0.1", port);
  const auto res = c.get("/api/v1/catalog/products?pageSize=1");
  CHECK(res.status == 200);
  // One JSON log line per request, with the request id the response carried.
  const auto log = nlohmann::json::parse(child.wait_for_line("\"msg\":\"request\""));
  CHECK(log.at("requestId") == std::string(res.headers.get("X-Request-Id")));
  CHECK(log.at("method") == "GET");
  CHECK(log.at("route") == "/api/v1/catalog/products");
  CHECK(log.at("status") == 200);
  CHECK(log.at("durationMs").is_number());
  kill(child.pid(), SIGTERM);
  CHECK(child.wait_exit() == 0);
  CHECK(std::filesystem::exists(dir.path() / "catalog.db"));
  CHECK(std::filesystem::exists(dir.path() / "identity.db"));
}

TEST_CASE("eshop exits on SIGTERM even when nothing reads its output", "[process][http]") {
  test::TempDir dir;
  test::Child child({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir.path().string()});
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  http::Client c("127.0.0.1", nlohmann::json::parse(line).at("port").get<std::uint16_t>());
  // About 1 MB of access log into a pipe that holds 64 KiB and that this test stops reading.
  for (int i = 0; i < 5000; ++i) REQUIRE(c.get("/health/live").status == 200);
  const auto start = std::chrono::steady_clock::now();
  kill(child.pid(), SIGTERM);
  CHECK(child.wait_exit(std::chrono::seconds(10)) == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));
}

TEST_CASE("eshop refuses a bad flag with exit code 2 and explains itself with --help", "[process][http]") {
  test::Child bad({ESHOP_BINARY, "serve", "--port", "99999"});
  CHECK_FALSE(bad.wait_for_line("port must be a whole number from 0 to 65535").empty());
  CHECK(bad.wait_exit() == 2);
  test::Child help({ESHOP_BINARY, "serve", "--help"});
  CHECK_FALSE(help.wait_for_line("--data-dir").empty());
  CHECK(help.wait_exit() == 0);
  test::Child top({ESHOP_BINARY, "--help"});
  CHECK_FALSE(top.wait_for_line("--port N  --data-dir DIR  --modules a,b").empty());
  CHECK_FALSE(top.wait_for_line("Precedence: flags > ESHOP_* environment > config file > built-in defaults.").empty());
  CHECK(top.wait_exit() == 0);
}

namespace {

std::uint16_t port_of(test::Child& child) {
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  return nlohmann::json::parse(line).at("port").get<std::uint16_t>();
}

}  // namespace

TEST_CASE("kill -9 in the middle of sagas: after a restart every order completes, charged once", "[process][http]") {
  test::TempDir dir;
  const std::vector<std::string> args = {ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0",
                                         "--data-dir", dir.path().string()};
  constexpr int kOrders = 20;
  std::vector<std::string> ids;
  std::string token, first_log;
  {
    test::Child first(args);
    http::Client c("127.0.0.1", port_of(first));
    REQUIRE(c.post("/api/v1/identity/register",
                   R"({"email":"ann@example.com","password":"password-123","name":"Ann"})").status == 201);
    token = test::body_of(c.post("/api/v1/identity/login", R"({"email":"ann@example.com","password":"password-123"})"))
                .at("token");
    for (int i = 0; i < kOrders; ++i) {
      REQUIRE(c.post("/api/v1/basket/items", R"({"productId":2,"quantity":1})", token).status == 200);
      const auto res = c.post("/api/v1/basket/checkout", test::checkout_body(), token);
      REQUIRE(res.status == 202);
      ids.push_back(test::body_of(res).at("orderId"));
    }
    first.kill_hard();  // no shutdown: sagas stop wherever they are
    first_log = first.drain();
  }
  test::Child second(args);
  http::Client c("127.0.0.1", port_of(second));
  for (const auto& id : ids) {
    INFO(id);
    CHECK(test::eventually([&] {
      const auto res = c.get("/api/v1/orders/" + id, token);
      return res.status == 200 && test::body_of(res).at("status") == "completed";
    }));
  }
  CHECK(test::body_of(c.get("/api/v1/catalog/products/2")).at("availableStock") == 25 - kOrders);
  const auto ledger = dir.path() / "payments.db";
  CHECK(sqlite_count(ledger, "SELECT COUNT(*) FROM charges WHERE approved = 1") == kOrders);
  CHECK(test::eventually([&] {
    return std::distance(std::filesystem::directory_iterator(dir.path() / "mail"), {}) == kOrders;
  }));
  kill(second.pid(), SIGTERM);
  CHECK(second.wait_exit() == 0);
  const auto log = first_log + second.drain();
  CHECK(log.find("\"msg\":\"request\"") != std::string::npos);  // the log was captured
  CHECK(log.find("4242424242424242") == std::string::npos);
  CHECK(log.find("12/30") == std::string::npos);
}

TEST_CASE("start-up failures name the port or the directory at fault and exit 2", "[process][http]") {
  test::TempDir dir;
  test::Child first({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir.path().string()});
  const auto port = port_of(first);
  test::TempDir other;
  test::Child taken({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(port), "--data-dir",
                     other.path().string()});
  CHECK(taken.wait_exit() == 2);
  CHECK_THAT(taken.drain(), Catch::Contains("eshop: cannot listen on 127.0.0.1:" + std::to_string(port) + ": "));
  const auto blocked = dir.path() / "a-file";
  std::ofstream(blocked) << "not a directory";
  test::Child bad_dir({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir",
                       (blocked / "data").string()});
  CHECK(bad_dir.wait_exit() == 2);
  CHECK_THAT(bad_dir.drain(), Catch::Contains("eshop: cannot create the data directory " + (blocked / "data").string()));
}
