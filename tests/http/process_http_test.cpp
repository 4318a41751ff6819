// The real binary: `eshop serve` starts, answers, and exits 0 on SIGTERM.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "support/shop.hpp"
#include "support/test_server.hpp"

using namespace eshop;

namespace {

// A child process with its stdout on a pipe; killed (SIGKILL) if still running at the end.
class Child final {
 public:
  explicit Child(std::vector<std::string> args, std::vector<std::string> env = {}) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      for (auto& e : env) putenv(e.data());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }

  // Reads output until a line contains `needle`; returns that line (empty on EOF or timeout).
  std::string wait_for_line(const std::string& needle, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        auto line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.find(needle) != std::string::npos) return line;
        continue;
      }
      char chunk[4096];
      const auto n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return {};
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return {};
  }

  // The exit status, or -1 if it did not exit within the timeout.
  int wait_exit(std::chrono::seconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  pid_t pid() const { return pid_; }
  // Everything the process printed until it closed its output (call after it ended).
  std::string drain() {
    std::string all = buffer_;
    char chunk[4096];
    ssize_t n;
    while ((n = read(out_, chunk, sizeof chunk)) > 0) all.append(chunk, static_cast<std::size_t>(n));
    buffer_.clear();
    return all;
  }
  void kill_hard() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  std::string buffer_;
};

}  // namespace

TEST_CASE("eshop serve starts, serves, and exits 0 on SIGTERM", "[process][http]") {
  test::TempDir dir;
  Child child({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir.path().string()});
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

TEST_CASE("eshop refuses a bad flag with exit code 2 and explains itself with --help", "[process][http]") {
  Child bad({ESHOP_BINARY, "serve", "--port", "99999"});
  CHECK_FALSE(bad.wait_for_line("port must be a whole number from 0 to 65535").empty());
  CHECK(bad.wait_exit() == 2);
  Child help({ESHOP_BINARY, "serve", "--help"});
  CHECK_FALSE(help.wait_for_line("--data-dir").empty());
  CHECK(help.wait_exit() == 0);
}

namespace {

std::uint16_t port_of(Child& child) {
  const auto line = child.wait_for_line("\"msg\":\"listening\"");
  REQUIRE_FALSE(line.empty());
  return nlohmann::json::parse(line).at("port").get<std::uint16_t>();
}

std::int64_t ledger_count(const std::filesystem::path& db, const char* query) {
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle, query, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(handle);
  return n;
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
    Child first(args);
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
  Child second(args);
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
  CHECK(ledger_count(ledger, "SELECT COUNT(*) FROM charges WHERE approved = 1") == kOrders);
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
