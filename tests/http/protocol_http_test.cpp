// The HTTP contract's conventions: limits, media types, malformed input, request ids.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

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

TEST_CASE("login attempts are throttled per client with 429 and Retry-After, catalog reads are not", "[server][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.rate_limits = {};  // the shipped defaults
  test::TestServer limited(config);
  auto c = limited.client();
  // A different account each time: the per-account limit stays out of the way.
  auto wrong = [](int i) { return R"({"email":"nobody)" + std::to_string(i) + R"(@example.com","password":"guess"})"; };
  for (int i = 0; i < 10; ++i) REQUIRE(c.post("/api/v1/identity/login", wrong(i)).status == 401);
  const auto refused = c.post("/api/v1/identity/login", wrong(10));
  check_problem(refused, 429, "Too many requests from this client; retry after 2 s.");
  CHECK(refused.headers.get("Retry-After") == "2");
  for (int i = 0; i < 100; ++i) REQUIRE(c.get("/api/v1/catalog/products/1").status == 200);
  CHECK(c.get("/health/ready").status == 200);
}

namespace {

// A raw TCP connection, for what an HTTP client library will not send.
class RawConnection final {
 public:
  explicit RawConnection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawConnection() { ::close(fd_); }
  void send(const std::string& bytes) { REQUIRE(::send(fd_, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size())); }
  // Everything the server sends until it closes the connection (at most 5 s).
  std::string read_until_closed() {
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < give_up) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) out.append(buf, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
    }
    return out;
  }
  // Seconds until the server closed the connection (reading and discarding), or -1 after `limit`.
  double seconds_until_closed(double limit) {
    const auto start = std::chrono::steady_clock::now();
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    while (true) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed > limit) return -1;
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return elapsed;
    }
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("a connection that idles, or never finishes its request, is closed after the timeout", "[server][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.idle_timeout_seconds = 1;
  test::TestServer server(config);
  RawConnection idle(server.port());
  const double idle_closed = idle.seconds_until_closed(5);
  CHECK(idle_closed >= 0.9);
  CHECK(idle_closed < 3);
  RawConnection slow(server.port());
  slow.send("GET /health/live HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  const double slow_closed = slow.seconds_until_closed(5);
  CHECK(slow_closed >= 0.9);
  CHECK(slow_closed < 3);
  auto c = server.client();
  CHECK(c.get("/health/live").status == 200);  // the server is none the worse
}

TEST_CASE("responses are framed exactly: HEAD, 304, HTTP/1.0 keep-alive and Connection: close, pipelined", "[server][http]") {
  auto c = server().client();
  const auto product = c.get("/api/v1/catalog/products/1");
  REQUIRE(product.status == 200);
  const std::string etag(product.headers.get("ETag"));
  const std::string length = std::to_string(product.body_view().size());
  RawConnection raw(server().port());
  raw.send("HEAD /api/v1/catalog/products/1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n"
           "GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\nX-Request-Id: two\r\n\r\n"
           "GET /api/v1/catalog/products/1 HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag +
           "\r\nConnection: close\r\nX-Request-Id: three\r\n\r\n");
  const auto bytes = raw.read_until_closed();
  // HEAD: the GET's header with its Content-Length, and no body.
  const std::string head = "HTTP/1.1 200 OK\r\nETag: " + etag +
                           "\r\nCache-Control: no-cache\r\nContent-Type: application/json\r\nX-Request-Id: one\r\n"
                           "Content-Length: " + length + "\r\n\r\n";
  // HTTP/1.0 asked to keep the connection: said so, since 1.0 closes by default.
  const std::string live = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: two\r\n"
                           "Content-Length: 17\r\nConnection: keep-alive\r\n\r\n{\"status\":\"live\"}";
  // 304: no body and no Content-Length; the client asked to close, and the server says it does.
  const std::string not_modified = "HTTP/1.1 304 Not Modified\r\nETag: " + etag +
                                   "\r\nCache-Control: no-cache\r\nX-Request-Id: three\r\nConnection: close\r\n\r\n";
  CHECK(bytes == head + live + not_modified);
}
