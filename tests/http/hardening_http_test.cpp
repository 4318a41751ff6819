// The holes an attack run found, each with the test that failed before its fix: admin by
// squatting, throttle groups from the raw target, request smuggling, Host, quantity overflow,
// file modes, fd exhaustion; and the trusted-proxy rules.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Bytes no HTTP client library would send, and everything the server answered until it closed
// the connection (or 3 s passed).
std::string exchange(std::uint16_t port, const std::string& bytes) {
  const int fd = connect_to(port);
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string status_line(const std::string& answer) { return answer.substr(0, answer.find("\r\n")); }

std::string login_body(const std::string& email, const std::string& password = "wrong-guess") {
  return nlohmann::json{{"email", email}, {"password", password}}.dump();
}

test::TestServer& server() {
  static test::TestServer s;
  return s;
}

}  // namespace

// --- 1. admin by squatting -------------------------------------------------------------------

TEST_CASE("an account registered under the admin address before it was configured does not become admin",
          "[hardening][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.admin_email.clear();
  config.admin_password.clear();
  std::string squatter;
  {
    test::TestServer before(config);
    auto c = before.client();
    REQUIRE(c.post("/api/v1/identity/register",
                   R"({"email":"boss@example.com","password":"squatter-pw","name":"Boss"})").status == 201);
    squatter = before.login("boss@example.com", "squatter-pw");
  }
  config.admin_email = "boss@example.com";
  config.admin_password = "the-real-admin-pw";
  {
    test::TestServer after(config);
    auto c = after.client();
    CHECK(c.get("/api/v1/discounts", squatter).status == 403);  // still only a customer
    CHECK(body_of(c.get("/api/v1/identity/me", squatter)).at("roles") == nlohmann::json{"customer"});
    CHECK(c.post("/api/v1/identity/login", login_body("boss@example.com", "the-real-admin-pw")).status == 401);
  }
  // The operator confirms: the account becomes admin with the configured password, and every
  // session opened before is gone.
  config.admin_promote_existing = true;
  test::TestServer confirmed(config);
  auto c = confirmed.client();
  CHECK(c.get("/api/v1/identity/me", squatter).status == 401);
  CHECK(c.post("/api/v1/identity/login", login_body("boss@example.com", "squatter-pw")).status == 401);
  const auto admin = confirmed.login("boss@example.com", "the-real-admin-pw");
  CHECK(c.get("/api/v1/discounts", admin).status == 200);
}

TEST_CASE("rotating ESHOP_ADMIN_PASSWORD ends the sessions opened with the old one", "[hardening][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  std::string old_token;
  {
    test::TestServer first(config);
    old_token = first.admin_token();
  }
  config.admin_password = "a-rotated-admin-password";
  test::TestServer second(config);
  auto c = second.client();
  CHECK(c.get("/api/v1/discounts", old_token).status == 401);
  CHECK(c.get("/api/v1/discounts", second.login(test::kAdminEmail, "a-rotated-admin-password")).status == 200);
}

// --- 2. throttle groups come from the matched route --------------------------------------------

TEST_CASE("a request target that is not an absolute path is 400", "[hardening][http]") {
  const auto answer = exchange(server().port(),
                               "POST api/v1/identity/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               "Content-Length: 2\r\n\r\n{}");
  CHECK(status_line(answer) == "HTTP/1.1 400 Bad Request");
  CHECK_THAT(answer, Catch::Contains(
                         R"("detail":"The request target must be an absolute path such as /api/v1/catalog/products.")"));
  CHECK(status_line(exchange(server().port(), "GET * HTTP/1.1\r\nHost: x\r\n\r\n")) == "HTTP/1.1 400 Bad Request");
}

TEST_CASE("an absolute-form target is served, and a login sent that way is throttled as a login",
          "[hardening][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.rate_limits = {};  // the shipped defaults: 10 logins, then one every 2 s
  test::TestServer limited(config);
  auto login = [&](int i) {
    const auto body = login_body("guess" + std::to_string(i) + "@example.com");
    return exchange(limited.port(), "POST http://localhost/api/v1/identity/login HTTP/1.1\r\nHost: localhost\r\n"
                                    "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  for (int i = 0; i < 10; ++i) REQUIRE(status_line(login(i)) == "HTTP/1.1 401 Unauthorized");
  const auto refused = login(10);
  CHECK(status_line(refused) == "HTTP/1.1 429 Too Many Requests");
  CHECK_THAT(refused, Catch::Contains("Retry-After: 2\r\n"));
  const auto product = exchange(limited.port(), "GET http://localhost:1/api/v1/catalog/products/1 HTTP/1.1\r\n"
                                                "Host: localhost\r\nConnection: close\r\n\r\n");
  CHECK(status_line(product) == "HTTP/1.1 200 OK");
}

// --- 2b. failed logins per account, and 6. trusted proxies ----------------------------------------

namespace {

http::Response login_via(http::Client& c, const std::string& forwarded_for, const std::string& body) {
  http::Request r;
  r.method = "POST";
  r.target = "/api/v1/identity/login";
  r.headers.add("Content-Type", "application/json");
  r.headers.add("X-Forwarded-For", forwarded_for);
  r.body = body;
  return c.send(r);
}

}  // namespace

TEST_CASE("a guesser spread over many addresses waits per account, and the account's owner gets in after",
          "[hardening][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.rate_limits = {};
  config.trusted_proxies = {"127.0.0.1"};  // the test is the load balancer: each guess from its own client
  test::TestServer shop(config);
  auto c = shop.client();
  REQUIRE(c.post("/api/v1/identity/register", R"({"email":"ann@example.com","password":"password-123","name":"Ann"})")
              .status == 201);
  for (int i = 0; i < 5; ++i)
    REQUIRE(login_via(c, "198.51.100." + std::to_string(i), login_body("ann@example.com")).status == 401);
  const auto refused = login_via(c, "198.51.100.77", login_body("ann@example.com", "password-123"));
  CHECK(refused.status == 429);
  CHECK(refused.headers.get("Retry-After") == "1");
  CHECK(body_of(refused).at("detail") == "Too many failed logins for this account; retry after 1 s.");
  // Another account is not slowed down by ann's guesser.
  CHECK(login_via(c, "198.51.100.78", login_body("bob@example.com")).status == 401);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(login_via(c, "198.51.100.79", login_body("ann@example.com", "password-123")).status == 200);
}

TEST_CASE("X-Forwarded-For is believed only from a trusted proxy, and then its rightmost untrusted hop",
          "[hardening][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.rate_limits = {};
  config.rate_limits.login = {2, 0.01};  // two logins per client, then a long wait
  SECTION("from a trusted proxy, each client has its own bucket, whatever it writes to the left") {
    config.trusted_proxies = {"10.0.0.0/8", "127.0.0.1"};
    test::TestServer shop(config);
    auto c = shop.client();
    // The client 203.0.113.5 spoofs a hop to the left; the proxy 10.1.1.1 appended the real one.
    for (int i = 0; i < 2; ++i)
      CHECK(login_via(c, "1.2.3." + std::to_string(i) + ", 203.0.113.5, 10.1.1.1", login_body("a@example.com")).status ==
            401);
    CHECK(login_via(c, "9.9.9.9, 203.0.113.5, 10.1.1.1", login_body("a@example.com")).status == 429);
    // Another client behind the same proxies still has its bucket.
    CHECK(login_via(c, "203.0.113.6, 10.1.1.1", login_body("b@example.com")).status == 401);
  }
  SECTION("from an untrusted peer, the header is ignored: spoofing it gains nothing") {
    config.trusted_proxies = {"10.0.0.0/8"};  // not the test's own 127.0.0.1
    test::TestServer shop(config);
    auto c = shop.client();
    CHECK(login_via(c, "203.0.113.1", login_body("a@example.com")).status == 401);
    CHECK(login_via(c, "203.0.113.2", login_body("b@example.com")).status == 401);
    CHECK(login_via(c, "203.0.113.3", login_body("c@example.com")).status == 429);
  }
  SECTION("off by default") {
    test::TestServer shop(config);
    auto c = shop.client();
    CHECK(login_via(c, "203.0.113.1", login_body("a@example.com")).status == 401);
    CHECK(login_via(c, "203.0.113.2", login_body("b@example.com")).status == 401);
    CHECK(login_via(c, "203.0.113.3", login_body("c@example.com")).status == 429);
  }
}

TEST_CASE("the access log names the client a trusted proxy forwarded for", "[hardening][http][process]") {
  test::TempDir dir;
  test::Child child({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir.path().string(),
                     "--trusted-proxies", "127.0.0.0/8"});
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  http::Client c("127.0.0.1", nlohmann::json::parse(line).at("port").get<std::uint16_t>());
  http::Request r;
  r.method = "GET";
  r.target = "/health/live";
  r.headers.add("X-Forwarded-For", "203.0.113.9, 127.0.0.2");
  REQUIRE(c.send(r).status == 200);
  const auto log = nlohmann::json::parse(child.wait_for_line("\"msg\":\"request\""));
  CHECK(log.at("client") == "203.0.113.9");
}

// --- 4. request smuggling, 5. Host ---------------------------------------------------------------

TEST_CASE("Transfer-Encoding with Content-Length is 400 and the connection is closed", "[hardening][http]") {
  // A smuggled second request after the body: the server must close instead of answering it.
  const auto answer = exchange(server().port(),
                               "POST /api/v1/identity/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                               "Content-Length: 5\r\nContent-Type: application/json\r\n\r\nhelloGET /health/live "
                               "HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(answer) == "HTTP/1.1 400 Bad Request");
  CHECK_THAT(answer, Catch::Contains("A request must not carry both Transfer-Encoding and Content-Length."));
  CHECK_THAT(answer, Catch::Contains("Connection: close\r\n"));
  CHECK(count_of(answer, "HTTP/1.1 ") == 1);
  const auto chunked_too = exchange(server().port(),
                                    "POST /api/v1/identity/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_line(chunked_too) == "HTTP/1.1 400 Bad Request");
  CHECK(count_of(chunked_too, "HTTP/1.1 ") == 1);
}

TEST_CASE("a transfer coding other than chunked is 501, and chunked not last is 400", "[hardening][http]") {
  const auto gzip = exchange(server().port(),
                             "POST /api/v1/identity/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
                             "Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  CHECK(status_line(gzip) == "HTTP/1.1 501 Not Implemented");
  CHECK_THAT(gzip, Catch::Contains("The transfer coding 'gzip' is not supported; send chunked only."));
  CHECK(count_of(gzip, "HTTP/1.1 ") == 1);
  const auto not_last = exchange(server().port(),
                                 "POST /api/v1/identity/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n"
                                 "\r\n0\r\n\r\n");
  CHECK(status_line(not_last) == "HTTP/1.1 400 Bad Request");
  CHECK_THAT(not_last, Catch::Contains("The final transfer coding of a request must be chunked."));
  // Plain chunked is fine.
  const auto chunked = exchange(server().port(),
                                "POST /api/v1/identity/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Type: application/json\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  CHECK(status_line(chunked) == "HTTP/1.1 422 Unprocessable Entity");
}

TEST_CASE("an HTTP/1.1 request without Host, or with two, is 400", "[hardening][http]") {
  const auto none = exchange(server().port(), "GET /health/live HTTP/1.1\r\n\r\n");
  CHECK(status_line(none) == "HTTP/1.1 400 Bad Request");
  CHECK_THAT(none, Catch::Contains("An HTTP/1.1 request must carry a Host header."));
  const auto two = exchange(server().port(), "GET /health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  CHECK(status_line(two) == "HTTP/1.1 400 Bad Request");
  CHECK_THAT(two, Catch::Contains("A request must carry one Host header, not several."));
  // HTTP/1.0 needs none.
  CHECK(status_line(exchange(server().port(), "GET /health/live HTTP/1.0\r\n\r\n")) == "HTTP/1.0 200 OK");
}

// --- 7. quantity overflow --------------------------------------------------------------------------

TEST_CASE("a quantity that would overflow a line is 422 with the limit", "[hardening][http]") {
  auto c = server().client();
  const auto token = server().customer_token("overflow@example.com");
  REQUIRE(c.post("/api/v1/basket/items", R"({"productId":1,"quantity":1})", token).status == 200);
  const auto res = c.post("/api/v1/basket/items", R"({"productId":1,"quantity":9223372036854775807})", token);
  CHECK(res.status == 422);
  CHECK(body_of(res).at("errors") == nlohmann::json{{"quantity", {"a line holds at most 10000"}}});
  const auto set = c.put("/api/v1/basket/items/1", R"({"quantity":10001})", token);
  CHECK(set.status == 422);
  CHECK(body_of(set).at("errors") == nlohmann::json{{"quantity", {"a line holds at most 10000"}}});
  CHECK(body_of(c.get("/api/v1/basket", token)).at("items").at(0).at("quantity") == 1);
}

// --- 8. file modes ---------------------------------------------------------------------------------

TEST_CASE("the data directory, databases and mail folder are private to the shop's user", "[hardening][http][process]") {
  test::TempDir dir;
  const auto data = dir.path() / "shop";
  test::Child child({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data.string()});
  REQUIRE_FALSE(child.wait_for_line("\"msg\":\"listening\"").empty());
  auto mode = [](const std::filesystem::path& p) {
    struct stat st{};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
  };
  CHECK(mode(data) == 0700);
  CHECK(mode(data / "mail") == 0700);
  CHECK(mode(data / "mail-journal") == 0700);
  CHECK(mode(data / "mail-journal" / "a") == 0600);
  CHECK(mode(data / "mail-journal" / "b") == 0600);
  for (const auto* db : {"identity.db", "catalog.db", "discount.db", "basket.db", "ordering.db", "payments.db"}) {
    INFO(db);
    CHECK(mode(data / db) == 0600);
    if (std::filesystem::exists(data / (std::string(db) + "-wal"))) CHECK(mode(data / (std::string(db) + "-wal")) == 0600);
  }
  kill(child.pid(), SIGTERM);
  CHECK(child.wait_exit() == 0);
}

// --- 3. file descriptors and the connection cap ------------------------------------------------------

namespace {

// True when the server closed the connection within `limit` (EOF or reset).
bool closed_within(int fd, std::chrono::milliseconds limit) {
  timeval tv{0, static_cast<suseconds_t>(limit.count() * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  const auto n = ::recv(fd, &c, 1, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// CPU seconds the process has used (user + system).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(all.substr(all.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i == 14 || i == 15) ticks += std::stod(f);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("connections over the cap are closed at once and counted", "[hardening][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.max_connections = 20;
  test::TestServer shop(config);
  std::vector<int> held;
  for (int i = 0; i < 20; ++i) held.push_back(connect_to(shop.port()));
  REQUIRE(test::eventually([&] { return shop.app().connections().open == 20; }));
  std::vector<int> excess;
  for (int i = 0; i < 10; ++i) excess.push_back(connect_to(shop.port()));
  for (int fd : excess) CHECK(closed_within(fd, std::chrono::milliseconds(1000)));
  for (int fd : held) CHECK_FALSE(closed_within(fd, std::chrono::milliseconds(1)));
  ::close(held.back());
  held.pop_back();
  REQUIRE(test::eventually([&] { return shop.app().connections().open == 19; }));
  auto c = shop.client();
  const auto text = c.get("/metrics").body;
  CHECK(metric(text, R"(eshop_http_connections_refused_total{reason="limit"})") == 10);
  CHECK(metric(text, R"(eshop_http_connections{state="open"})") == 20);
  CHECK(metric(text, R"(eshop_http_connections{state="limit"})") == 20);
  for (int fd : held) ::close(fd);
  for (int fd : excess) ::close(fd);
}

TEST_CASE("with its file descriptors used up the server sheds new clients without spinning, and recovers",
          "[hardening][http][process]") {
  test::TempDir dir;
  // 128 descriptors (about 80 go to the databases), a connection cap above that: the server runs out of descriptors first.
  test::Child child({"/usr/bin/prlimit", "--nofile=128:128", ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port",
                     "0", "--data-dir", dir.path().string(), "--max-connections", "1000", "--threads", "2"});
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  const auto port = nlohmann::json::parse(line).at("port").get<std::uint16_t>();
  std::vector<int> idle;
  for (int i = 0; i < 150; ++i) idle.push_back(connect_to(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Backing off, not retrying accept() in a loop: well under a tenth of a core (77 % before).
  const double before = cpu_seconds(child.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(cpu_seconds(child.pid()) - before < 0.1);
  // Clients beyond the descriptors are not left hanging: they are closed.
  CHECK(closed_within(connect_to(port), std::chrono::milliseconds(1000)));
  for (int fd : idle) ::close(fd);
  bool served = test::eventually([&] {
    try {
      http::Client c("127.0.0.1", port);
      const auto text = c.get("/metrics").body;
      return metric(text, R"(eshop_http_connections_refused_total{reason="no_file_descriptors"})") >= 1;
    } catch (const std::exception&) {
      return false;
    }
  });
  CHECK(served);
  kill(child.pid(), SIGTERM);
  CHECK(child.wait_exit() == 0);
}

TEST_CASE("the server raises its soft file limit to the hard limit", "[hardening][http][process]") {
  test::TempDir dir;
  test::Child child({"/usr/bin/prlimit", "--nofile=256:4096", ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port",
                     "0", "--data-dir", dir.path().string()});
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  http::Client c("127.0.0.1", nlohmann::json::parse(line).at("port").get<std::uint16_t>());
  // The limit on connections follows: 4096 descriptors less 128 kept for databases and clients.
  CHECK(metric(c.get("/metrics").body, R"(eshop_http_connections{state="limit"})") == 4096 - 128);
  kill(child.pid(), SIGTERM);
  CHECK(child.wait_exit() == 0);
}

// --- a coupon is never dropped silently -----------------------------------------------------------

TEST_CASE("with the discount module unreachable, a basket with a coupon is 503, never a higher price",
          "[hardening][http]") {
  test::TempDir discount_dir, shop_dir;
  auto discount_config = test::test_config(discount_dir.path());
  discount_config.modules = {"discount"};
  auto discount = std::make_unique<test::TestServer>(discount_config);
  const auto discount_port = discount->port();
  auto shop_config = test::test_config(shop_dir.path());
  shop_config.modules = {"identity", "catalog", "basket", "ordering"};
  shop_config.remotes = {{"discount", "http://127.0.0.1:" + std::to_string(discount_port)}};
  test::TestServer shop(shop_config);
  auto c = shop.client();
  const auto token = shop.customer_token("ann@example.com");
  REQUIRE(c.post("/api/v1/basket/items", R"({"productId":1,"quantity":1})", token).status == 200);
  REQUIRE(c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", token).status == 200);

  discount.reset();  // the discount process is gone
  const auto basket = c.get("/api/v1/basket", token);
  CHECK(basket.status == 503);
  CHECK(basket.headers.get("Retry-After") == "1");
  CHECK(body_of(basket).at("detail") ==
        "The basket's coupon cannot be checked now: the discount module is unavailable. Retry shortly.");
  const auto checkout = c.post("/api/v1/basket/checkout", R"({
      "shippingAddress":{"fullName":"Ann Lee","street":"1 Main St","city":"Springfield","postalCode":"12345","country":"US"},
      "deliveryNote":"","payment":{"cardNumber":"4242424242424242","cardHolder":"Ann Lee","expiry":"12/30","cvv":"123"}})",
                               token);
  CHECK(checkout.status == 503);
  CHECK(body_of(c.get("/api/v1/orders", token)).at("totalItems") == 0);
  // Without a coupon the basket does not need the discount module.
  REQUIRE(c.del("/api/v1/basket/coupon", token).status == 200);
  CHECK(c.get("/api/v1/basket", token).status == 200);
  REQUIRE(c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", token).status == 503);

  discount_config.port = discount_port;  // back on its address
  test::TestServer back(discount_config);
  REQUIRE(c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", token).status == 200);
  CHECK(body_of(c.get("/api/v1/basket", token)).at("coupon").at("code") == "WELCOME10");
}

// --- bad input is a 4xx problem on every route, never a 5xx ---------------------------------------

TEST_CASE("every route answers malformed input with a 4xx problem and never a 5xx", "[hardening][http]") {
  test::TempDir dir;
  test::TestServer shop(test::test_config(dir.path()));
  const auto admin = shop.admin_token();
  const auto customer = shop.customer_token("bad-input@example.com");
  const std::vector<std::string> params = {"abc", "-1", "0", "99999999999999999999", "%00", "%2F..%2F", "1.5",
                                           "%E2%82%AC", std::string(300, 'x')};
  const std::vector<std::string> bodies = {
      "", "null", "[]", "\"text\"", "{", "{}", R"({"a":1}{"b":2})", "{\"x\":\"\\ud800\"}",
      R"({"productId":"1","quantity":"2","code":5,"email":[],"password":{},"name":null,"price":1e400})",
      R"({"productId":1e30,"quantity":-9223372036854775808,"price":-1,"brandId":9223372036854775807,"availableStock":1.5})",
      R"({"shippingAddress":[],"payment":"card","deliveryNote":7})",
      R"({"shippingAddress":{"fullName":1},"payment":{"cardNumber":"4242","expiry":"13/99","cvv":"1"}})",
      R"({"code":"X","type":"percent","value":1000,"validFrom":"9999-12-31T00:00:00Z","validUntil":"x","productId":-5})",
      R"({"name":"")" + std::string(5000, 'n') + R"(","attributes":{"k":[1,2,{"d":null}]},"supplierId":"s"})",
      "\xff\xfe\x00garbage"};
  auto c = shop.client();
  int requests = 0;
  for (const auto& route : shop.app().router().routes()) {
    for (const auto& param : params) {
      std::string target;
      for (const auto& segment : route->segments)
        target += "/" + (segment.front() == '{' ? param : segment);
      for (const auto& body : route->method == "GET" || route->method == "DELETE" ? std::vector<std::string>{""} : bodies) {
        for (const auto* token : {&admin, &customer}) {
          http::Request r;
          r.method = route->method;
          r.target = target + "?page=-1&pageSize=abc&sort=%ZZ&minPrice=1e99&brand=";
          r.headers.add("Authorization", "Bearer " + *token);
          r.headers.add("Content-Type", "application/json");
          r.body = body;
          const auto res = c.send(r);
          ++requests;
          INFO(route->method << " " << target << " " << body.substr(0, 80) << " -> " << res.status << " " << res.body);
          REQUIRE(res.status < 500);
          if (res.status >= 400) REQUIRE(res.headers.get("Content-Type") == "application/problem+json");
        }
      }
    }
  }
  CHECK(requests > 1000);
}
