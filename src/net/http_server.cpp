#include "net/http_server.hpp"

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace eshop::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  ServerOptions options;
  RequestHandler handler;
  RejectHandler reject;
  InlinePredicate run_inline;
  asio::io_context ioc;
  std::unique_ptr<asio::thread_pool> workers;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  std::uint16_t bound_port = 0;
  bool started = false;

  void accept();
};

namespace {

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
  }

  void start() { asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); }); }

 private:
  void read() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(server_.options.body_limit);
    // One deadline per request: an idle keep-alive connection, or a request that does not
    // arrive whole, is closed when it passes. (Each timer change costs; one per read is enough.)
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_error(ec);
    ++server_.in_flight;
    auto req = parser_->release();
    http::Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) request.headers.add(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(req.body());
    request.remote_address = remote_address_;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    const bool head = req.method() == bhttp::verb::head;
    if (server_.run_inline(request)) {
      http::Response response = server_.handler(request);
      return send(std::move(response), keep_alive && !server_.stopping, version, head);
    }
    asio::post(*server_.workers, [self = shared_from_this(), request = std::move(request), keep_alive, version,
                                  head]() mutable {
      http::Response response = self->server_.handler(request);
      asio::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, version, head]() mutable {
        self->send(std::move(response), keep_alive && !self->server_.stopping, version, head);
      });
    });
  }

  void on_error(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof)
      return close();
    ++server_.in_flight;
    if (ec == bhttp::error::header_limit)
      return reject(431, "The request header fields are larger than 16 KiB.");
    if (ec == bhttp::error::body_limit) return reject(413, "The request body is larger than 1 MiB.");
    reject(400, "The request is not valid HTTP/1.1.");
  }

  void reject(int status, std::string detail) {
    send(server_.reject(status, std::move(detail)), false, 11, false);
  }

  void send(http::Response response, bool keep_alive, unsigned version, bool head) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(response.status),
                                                                      version);
    for (const auto& [name, value] : response.headers.fields()) res->insert(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (head) res->body().clear();
    stream_.expires_after(server_.options.request_timeout);
    auto on_write = [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      --self->server_.in_flight;
      if (ec) return self->close();
      if (!res->keep_alive()) return self->drain_and_close();
      self->read();
    };
    if (head) {
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*res);
      bhttp::async_write_header(stream_, *sr, [sr, on_write](beast::error_code ec, std::size_t n) { on_write(ec, n); });
    } else {
      bhttp::async_write(stream_, *res, std::move(on_write));
    }
  }

  // Half-close and read what the client still sends, so it gets our answer rather than a reset.
  void drain_and_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    drain_buffer_ = std::make_shared<std::array<char, 16384>>();
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(*drain_buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<std::array<char, 16384>> drain_buffer_;
  std::string remote_address_;
  HttpServer::Impl& server_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    accept();
  });
}

HttpServer::HttpServer(ServerOptions options, RequestHandler handler, RejectHandler reject, InlinePredicate run_inline)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->reject = std::move(reject);
  impl_->run_inline = std::move(run_inline);
  impl_->workers = std::make_unique<asio::thread_pool>(std::max(1, impl_->options.worker_threads));
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto& s = *impl_;
  const tcp::endpoint endpoint(asio::ip::make_address(s.options.host), s.options.port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(asio::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(asio::socket_base::max_listen_connections);
  s.bound_port = s.acceptor.local_endpoint().port();
  s.accept();
  int n = s.options.threads > 0 ? s.options.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  for (int i = 0; i < n; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  s.started = true;
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::stop() {
  auto& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.stopping = true;
  asio::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  const auto deadline = std::chrono::steady_clock::now() + s.options.shutdown_grace;
  while (s.in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.workers->join();
}

void HttpServer::run_until_signal() {
  // The caller blocked SIGINT and SIGTERM before any thread started (block_stop_signals),
  // so they stay pending until this thread takes them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
  stop();
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace eshop::net
