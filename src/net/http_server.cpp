#include "net/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <latch>
#include <limits>
#include <list>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/request_framing.hpp"

namespace eshop::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;
using Steady = std::chrono::steady_clock;
constexpr auto kNoDeadline = Steady::time_point::max();

// The status line of a response, "HTTP/1.1 200 OK\r\n".
void append_status_line(std::string& out, unsigned version, int status) {
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char code[4] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10), ' '};
  out.append(code, 4);
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
}

void append_decimal(std::string& out, std::size_t n) {
  char digits[20];
  char* p = digits + sizeof digits;
  do *--p = static_cast<char>('0' + n % 10);
  while ((n /= 10) != 0);
  out.append(p, static_cast<std::size_t>(digits + sizeof digits - p));
}

// A field name or value may not carry a line break: it would end the header early (response
// splitting). Every field comes from the server's own code, so this never drops one in practice.
// (A loop, not find_first_of: libstdc++'s calls memchr once per character.)
bool header_safe(std::string_view s) {
  for (const char c : s)
    if (c == '\r' || c == '\n') return false;
  return true;
}
}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  RequestHandler handler;
  RejectHandler reject;
  InlinePredicate run_inline;
  // The connections of each I/O thread, touched only by that thread. Deadlines are checked by a
  // sweep four times a second instead of a timer per read and write: arming and cancelling a
  // timer around every socket operation cost more than the rest of a cached GET.
  std::vector<std::unique_ptr<std::list<Session*>>> sessions;  // outlives iocs: their handlers hold sessions
  // One io_context per I/O thread, each connection on one of them: a connection's handlers never
  // run on two threads, so it needs no strand, and the threads share no scheduler queue or lock.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<std::unique_ptr<asio::steady_timer>> sweepers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::size_t next_ioc = 0;  // the acceptor's own handler only
  std::unique_ptr<asio::thread_pool> workers;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  // Requests being answered, per I/O thread (one cache line each: both threads count every request).
  struct alignas(64) Count {
    std::atomic<int> n{0};
  };
  std::vector<Count> in_flight = std::vector<Count>(64);
  int requests_in_flight() const {
    int total = 0;
    for (const auto& c : in_flight) total += c.n.load();
    return total;
  }
  std::atomic<bool> stopping{false};
  std::uint16_t bound_port = 0;
  bool started = false;

  // Connection accounting. When the process runs out of file descriptors, accept() fails with the
  // connection still queued, and a loop that retries at once burns a core: it backs off instead,
  // and sheds what waits with the help of one descriptor held in reserve.
  int max_connections = 0;
  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::uint64_t> refused_over_limit{0};
  std::atomic<std::uint64_t> refused_no_fds{0};
  int reserve_fd = -1;
  std::unique_ptr<asio::steady_timer> accept_backoff;

  void accept();
  void on_no_descriptors();
  void shed_waiting_connections();
  void sweep(std::size_t thread);
};

namespace {

class Session final : public std::enable_shared_from_this<Session>, public http::Deferral {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server, std::size_t thread)
      : socket_(std::move(socket)), server_(server), registry_(*server.sessions[thread]),
        in_flight_(server.in_flight[thread % server.in_flight.size()].n) {
    ++server_.open_connections;
    beast::error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string();
  }
  // Runs on the connection's own thread, like every handler of it, so the registry needs no lock.
  ~Session() {
    if (registered_) registry_.erase(position_);
    --server_.open_connections;
  }

  // Takes the only reference, so that the last one is always dropped on the connection's thread.
  static void start(std::shared_ptr<Session> self) {
    auto executor = self->socket_.get_executor();
    asio::dispatch(executor, [self = std::move(self)] {
      self->position_ = self->registry_.insert(self->registry_.end(), self.get());
      self->registered_ = true;
      self->read();
    });
  }

  // Called by the sweep: closes the connection if its deadline has passed; the pending read or
  // write then completes with operation_aborted and the session ends.
  void expire_if_due(Steady::time_point now) {
    if (deadline_ > now) return;
    deadline_ = kNoDeadline;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void read() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(server_.options.body_limit);
    // One deadline per request: an idle keep-alive connection, or a request that does not
    // arrive whole, is closed when it passes. (Each timer change costs; one per read is enough.)
    deadline_ = Steady::now() + server_.options.idle_timeout;
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    deadline_ = kNoDeadline;  // the handler's time is not the client's
    if (ec) return on_error(ec);
    ++in_flight_;
    auto req = parser_->release();
    if (auto refused = framing_refusal(req)) return reject(refused->status, std::move(refused->detail));
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    const bool head = req.method() == bhttp::verb::head;
    http::Request request;
    if (auto refused = to_request(std::move(req), request)) return reject(refused->status, std::move(refused->detail));
    request.remote_address = remote_address_;
    if (server_.run_inline(request)) {
      // Kept here, where a handler that defers its answer (http::Later) finds it until then: the
      // connection reads its next request only after this one is answered.
      request_ = std::move(request);
      request_.deferral = this;
      answer_keep_alive_ = keep_alive;
      answer_version_ = version;
      answer_head_ = head;
      http::Response response = server_.handler(request_);
      // Deferred: the request is the Later's now (a worker may be running it); take() cleared the
      // pointer, on this thread, before it gave the Later away.
      if (response.is_deferred()) return;
      request_.deferral = nullptr;
      return send(std::move(response), keep_alive && !server_.stopping, version, head);
    }
    asio::post(*server_.workers, [self = shared_from_this(), request = std::move(request), keep_alive, version,
                                  head]() mutable {
      http::Response response = self->server_.handler(request);
      auto executor = self->socket_.get_executor();
      // Moved, not copied: the worker must not hold the last reference (see start()).
      asio::post(executor, [self = std::move(self), response = std::move(response), keep_alive, version,
                            head]() mutable {
        self->send(std::move(response), keep_alive && !self->server_.stopping, version, head);
      });
    });
  }

  // http::Deferral: the Later of the request the I/O thread is running.
  std::shared_ptr<http::Later> take() override {
    request_.deferral = nullptr;  // what runs the request later runs it as on a worker
    return std::make_shared<Answer>(shared_from_this());
  }

  // Answers the request kept in request_ from another thread, or from a worker, and then on this
  // connection's thread. Holds the connection until then; one that is dropped unanswered (a
  // handler's bug) answers 500 rather than leave the client waiting.
  class Answer final : public http::Later {
   public:
    explicit Answer(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    ~Answer() override {
      if (session_) {
        auto& server = session_->server_;
        const std::string peer = session_->remote_address_;
        respond([&server, peer] { return server.reject(500, "The request was not answered.", peer); });
      }
    }
    void respond(std::function<http::Response()> answer) override {
      auto executor = session_->socket_.get_executor();
      asio::post(executor, [self = std::move(session_), answer = std::move(answer)] {
        self->answer_with(answer);
      });
    }
    void offload(std::function<http::Response()> answer) override {
      auto& workers = *session_->server_.workers;
      asio::post(workers, [self = std::move(session_), answer = std::move(answer)]() mutable {
        http::Response response = self->run_guarded(answer);
        auto executor = self->socket_.get_executor();
        // Moved, not copied: the worker must not hold the last reference (see start()).
        asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
          self->send_answer(std::move(response));
        });
      });
    }

   private:
    std::shared_ptr<Session> session_;
  };

  http::Response run_guarded(const std::function<http::Response()>& answer) const {
    try {
      return answer();
    } catch (...) {  // the edge's answers do not throw; this is the last resort
      return server_.reject(500, "The request could not be answered.", remote_address_);
    }
  }

  void answer_with(const std::function<http::Response()>& answer) { send_answer(run_guarded(answer)); }
  void send_answer(http::Response response) {
    send(std::move(response), answer_keep_alive_ && !server_.stopping, answer_version_, answer_head_);
  }

  void on_error(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof)
      return close();
    ++in_flight_;
    if (ec == bhttp::error::header_limit)
      return reject(431, "The request header fields are larger than 16 KiB.");
    if (ec == bhttp::error::body_limit) return reject(413, "The request body is larger than 1 MiB.");
    reject(400, "The request is not valid HTTP/1.1.");
  }

  void reject(int status, std::string detail) {
    send(server_.reject(status, std::move(detail), remote_address_), false, 11, false);
  }

  // Writes the response: its header, built here into a buffer the connection keeps, and its body
  // from where it is (the response's own string or a borrowed cache entry), in one gathered write.
  void send(http::Response response, bool keep_alive, unsigned version, bool head) {
    const int status = response.status;
    // No body and no Content-Length for 1xx, 204 and 304 (RFC 9110 §8.6, §15.3.5, §15.4.5).
    const bool bodiless = status < 200 || status == 204 || status == 304;
    body_ = std::move(response.body);
    shared_body_ = std::move(response.shared_body);
    const std::string_view body = shared_body_ ? std::string_view(*shared_body_) : std::string_view(body_);
    head_.clear();
    append_status_line(head_, version, status);
    for (const auto& [name, value] : response.headers.fields()) {
      if (!header_safe(name) || !header_safe(value)) continue;
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += "\r\n";
    }
    if (!bodiless) {
      head_ += "Content-Length: ";  // also for HEAD: the length the body would have
      append_decimal(head_, body.size());
      head_ += "\r\n";
    }
    if (version == 10 && keep_alive) head_ += "Connection: keep-alive\r\n";
    if (version != 10 && !keep_alive) head_ += "Connection: close\r\n";
    head_ += "\r\n";
    keep_alive_ = keep_alive;
    deadline_ = Steady::now() + server_.options.request_timeout;
    const std::size_t body_bytes = head || bodiless ? 0 : body.size();
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body.data(), body_bytes)};
    asio::async_write(socket_, buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      --self->in_flight_;
      self->body_.clear();
      self->shared_body_.reset();
      if (ec) return self->close();
      if (!self->keep_alive_) return self->drain_and_close();
      self->read();
    });
  }

  // Half-close and read what the client still sends, so it gets our answer rather than a reset.
  void drain_and_close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    deadline_ = Steady::now() + std::chrono::seconds(2);
    drain_buffer_ = std::make_shared<std::array<char, 16384>>();
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(*drain_buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  // The request answered on this thread, and how its answer is to be sent.
  http::Request request_;
  bool answer_keep_alive_ = false;
  unsigned answer_version_ = 11;
  bool answer_head_ = false;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<std::array<char, 16384>> drain_buffer_;
  std::string remote_address_;
  HttpServer::Impl& server_;
  // The response being written: its header, and its body owned or borrowed.
  std::string head_;
  std::string body_;
  std::shared_ptr<const std::string> shared_body_;
  bool keep_alive_ = false;
  std::list<Session*>& registry_;
  std::atomic<int>& in_flight_;
  std::list<Session*>::iterator position_;
  bool registered_ = false;
  Steady::time_point deadline_ = kNoDeadline;
};

}  // namespace

void HttpServer::Impl::accept() {
  const auto thread = next_ioc++ % iocs.size();
  acceptor->async_accept(*iocs[thread], [this, thread](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory)
      return on_no_descriptors();
    if (!ec) {
      if (open_connections.load(std::memory_order_relaxed) >= max_connections) {
        ++refused_over_limit;  // closed at once: the client learns now, not after a timeout
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        Session::start(std::make_shared<Session>(std::move(socket), *this, thread));
      }
    }
    accept();
  });
}

void HttpServer::Impl::on_no_descriptors() {
  shed_waiting_connections();
  accept_backoff->expires_after(std::chrono::milliseconds(50));
  accept_backoff->async_wait([this](beast::error_code ec) {
    if (!ec && acceptor->is_open()) accept();
  });
}

// Frees the reserve descriptor, accepts and closes the connections that wait, takes the reserve back.
void HttpServer::Impl::shed_waiting_connections() {
  if (reserve_fd >= 0) ::close(reserve_fd);
  const int listener = acceptor->native_handle();
  for (int i = 0; i < 64; ++i) {
    pollfd ready{listener, POLLIN, 0};
    if (::poll(&ready, 1, 0) != 1) break;
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;
    ::close(fd);
    ++refused_no_fds;
  }
  reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void HttpServer::Impl::sweep(std::size_t thread) {
  auto& timer = *sweepers[thread];
  timer.expires_after(std::chrono::milliseconds(250));
  timer.async_wait([this, thread](beast::error_code ec) {
    if (ec) return;
    const auto now = Steady::now();
    auto& list = *sessions[thread];
    for (auto it = list.begin(); it != list.end();) (*it++)->expire_if_due(now);  // closing may not erase yet
    sweep(thread);
  });
}

HttpServer::HttpServer(ServerOptions options, RequestHandler handler, RejectHandler reject, InlinePredicate run_inline)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->reject = std::move(reject);
  impl_->run_inline = std::move(run_inline);
  const int workers = std::max(1, impl_->options.worker_threads);
  impl_->workers = std::make_unique<asio::thread_pool>(workers);
  // Each worker names itself, so top -H and perf tell the workers from the other threads. A pool
  // has no per-thread start hook: one task per worker, each held at the latch until every worker
  // has taken one, so no worker takes two.
  auto all_named = std::make_shared<std::latch>(workers);
  for (int i = 0; i < workers; ++i)
    asio::post(*impl_->workers, [all_named] {
      pthread_setname_np(pthread_self(), "http-worker");
      all_named->arrive_and_wait();
    });
  all_named->wait();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto& s = *impl_;
  int n = s.options.threads > 0 ? s.options.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  s.sweepers.clear();
  s.iocs.clear();
  s.keep_running.clear();
  s.sessions.clear();
  for (int i = 0; i < n; ++i) {
    s.sessions.push_back(std::make_unique<std::list<Session*>>());
    s.iocs.push_back(std::make_unique<asio::io_context>(1));
    s.keep_running.push_back(asio::make_work_guard(*s.iocs.back()));
    s.sweepers.push_back(std::make_unique<asio::steady_timer>(*s.iocs.back()));
    s.sweep(static_cast<std::size_t>(i));
  }
  const tcp::endpoint endpoint(asio::ip::make_address(s.options.host), s.options.port);
  s.acceptor = std::make_unique<tcp::acceptor>(*s.iocs.front());
  s.accept_backoff = std::make_unique<asio::steady_timer>(*s.iocs.front());
  if (s.reserve_fd < 0) s.reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  s.max_connections = s.options.max_connections;
  if (s.max_connections <= 0) {
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const auto fds = files.rlim_cur == RLIM_INFINITY ? rlim_t{1} << 20 : files.rlim_cur;
    s.max_connections = static_cast<int>(std::clamp<rlim_t>(fds > kFdReserve ? fds - kFdReserve : 0, 16, 1u << 20));
  }
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(asio::socket_base::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.bound_port = s.acceptor->local_endpoint().port();
  s.accept();
  for (auto& ioc : s.iocs) {
    s.threads.emplace_back([&ioc = *ioc] { ioc.run(); });
    // Named here, not by the thread itself, so the name is there when start() returns.
    pthread_setname_np(s.threads.back().native_handle(), "http-io");
  }
  s.started = true;
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

ConnectionStats HttpServer::connections() const {
  return {impl_->open_connections.load(), impl_->max_connections, impl_->refused_over_limit.load(),
          impl_->refused_no_fds.load()};
}

void HttpServer::stop() {
  auto& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.stopping = true;
  asio::post(*s.iocs.front(), [&s] {
    beast::error_code ignored;
    s.acceptor->close(ignored);
  });
  const auto deadline = std::chrono::steady_clock::now() + s.options.shutdown_grace;
  while (s.requests_in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  s.keep_running.clear();
  for (auto& ioc : s.iocs) ioc->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.workers->join();
  if (s.reserve_fd >= 0) ::close(s.reserve_fd);
  s.reserve_fd = -1;
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

long raise_fd_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return -1;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  return files.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long>(files.rlim_cur);
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace eshop::net
