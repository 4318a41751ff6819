// The real binary: `eshop serve` starts, answers, and exits 0 on SIGTERM.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

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
