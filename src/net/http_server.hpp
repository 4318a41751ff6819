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
};

// Answers a whole request; runs on an I/O thread. Must not throw.
using RequestHandler = std::function<http::Response(http::Request&)>;
// True for requests answered from memory, run inline on the I/O thread; the rest go to the workers.
using InlinePredicate = std::function<bool(const http::Request&)>;
// Builds the answer to a request the transport refused (400, 413, 431) as problem details.
using RejectHandler = std::function<http::Response(int status, std::string detail)>;

class HttpServer final {
 public:
  HttpServer(ServerOptions options, RequestHandler handler, RejectHandler reject, InlinePredicate run_inline);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads; throws if the address cannot be bound.
  void start();
  std::uint16_t port() const;
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

}  // namespace eshop::net
