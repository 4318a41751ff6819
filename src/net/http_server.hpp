#pragma once
// The HTTP/1.1 server. Beast and Asio stay inside http_server.cpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <eshop/http.hpp>

namespace eshop::net {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0: an ephemeral port, see HttpServer::port()
  int threads = 0;            // 0: one per core
  std::chrono::seconds idle_timeout{30};     // a connection waiting this long for a whole request is closed
  std::chrono::seconds request_timeout{30};  // writing a response may take this long
  std::size_t header_limit = 16 * 1024;      // larger: 431
  std::size_t body_limit = 1024 * 1024;      // larger: 413
  std::chrono::seconds shutdown_grace{10};   // in-flight requests may finish within this
  // Requests that may block (on a database, a provider) run on a pool of their own so the I/O
  // threads keep serving, and so that many concurrent writes can share one commit.
  int worker_threads = 32;
  // Open connections at most: one more is accepted and closed at once, and counted. 0: the process's
  // file descriptor limit less kFdReserve (for databases, the broker, outgoing calls).
  int max_connections = 0;
};

inline constexpr int kFdReserve = 128;

// Connections, as /metrics shows them.
struct ConnectionStats {
  std::int64_t open = 0;
  std::int64_t limit = 0;
  std::uint64_t refused_over_limit = 0;  // closed at once: max_connections were open
  std::uint64_t refused_no_fds = 0;      // shed while the process had no file descriptor left
};

// Answers a whole request; runs on an I/O thread. Must not throw.
using RequestHandler = std::function<http::Response(http::Request&)>;
// True for requests answered from memory, run inline on the I/O thread; the rest go to the workers.
using InlinePredicate = std::function<bool(const http::Request&)>;
// Builds the answer to a request the transport refused (400, 413, 431, 501) as problem details;
// `peer` is the connection's remote address, for the log.
using RejectHandler = std::function<http::Response(int status, std::string detail, const std::string& peer)>;

class HttpServer final {
 public:
  HttpServer(ServerOptions options, RequestHandler handler, RejectHandler reject, InlinePredicate run_inline);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads; throws if the address cannot be bound.
  void start();
  std::uint16_t port() const;
  ConnectionStats connections() const;
  // Stops accepting, lets in-flight requests finish (up to the grace period), joins threads.
  void stop();
  // Blocks until SIGINT or SIGTERM, then stop(). Needs block_stop_signals() first.
  void run_until_signal();

  struct Impl;  // Beast-side state, shared with the connection sessions

 private:
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGINT and SIGTERM in this thread and every thread it starts later.
void block_stop_signals();

// Raises the soft limit on open files to the hard limit; returns the soft limit now in force.
long raise_fd_limit();

}  // namespace eshop::net
