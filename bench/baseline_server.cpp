// The machine's ceiling for the benchmark: a minimal Beast HTTP/1.1 server with keep-alive and
// one I/O thread (and io_context) per core, answering every request with a fixed JSON body of a given size.
// Usage: bench_baseline PORT BODY_BYTES [THREADS]
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::string& body) : stream_(std::move(socket)), body_(body) {}
  void start() { read(); }

 private:
  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->write();
    });
  }
  void write() {
    res_ = http::response<http::string_body>(http::status::ok, req_.version());
    res_.set(http::field::content_type, "application/json");
    res_.body() = body_;
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->res_.keep_alive()) return;
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  const std::string& body_;
};

// Connections are spread over the threads' io_contexts in turn (as eshop's server does).
void accept(tcp::acceptor& acceptor, std::vector<std::unique_ptr<asio::io_context>>& iocs, std::size_t next,
            const std::string& body) {
  acceptor.async_accept(*iocs[next % iocs.size()], [&, next](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket), body)->start();
    }
    accept(acceptor, iocs, next + 1, body);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bench_baseline PORT BODY_BYTES [THREADS]\n";
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const auto size = static_cast<std::size_t>(std::atol(argv[2]));
  int threads = argc > 3 ? std::atoi(argv[3]) : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1) threads = 1;
  const std::string body = "{\"pad\":\"" + std::string(size > 10 ? size - 10 : 0, 'x') + "\"}";
  // One io_context per thread: a connection's handlers stay on one thread, with no strand and no
  // scheduler shared between threads.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (int i = 0; i < threads; ++i) {
    iocs.push_back(std::make_unique<asio::io_context>(1));
    keep_running.push_back(asio::make_work_guard(*iocs.back()));
  }
  tcp::acceptor acceptor(*iocs.front(), {asio::ip::make_address("127.0.0.1"), port});
  accept(acceptor, iocs, 0, body);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc = *iocs[i]] { ioc.run(); });
  iocs.front()->run();
}
