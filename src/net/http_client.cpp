#include <eshop/http_client.hpp>

#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace eshop::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct Client::Impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    tcp::resolver resolver(ioc);
    stream.emplace(ioc);
    stream->expires_after(timeout);
    stream->connect(resolver.resolve(host, std::to_string(port)));
    buffer.clear();
  }

  // Runs the io_context until `done` or the timeout fires; the stream's own timer cancels I/O.
  void run() {
    ioc.restart();
    ioc.run();
  }

  Response exchange(const Request& request) {
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(request.method), request.target, 11);
    if (req.method() == bhttp::verb::unknown) req.method_string(request.method);
    req.set(bhttp::field::host, host + ":" + std::to_string(port));
    for (const auto& [name, value] : request.headers.fields()) req.set(name, value);
    req.body() = request.body;
    req.prepare_payload();

    beast::error_code ec;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.header_limit(1024 * 1024);
    stream->expires_after(timeout);
    bhttp::async_write(*stream, req, [&](beast::error_code e, std::size_t) {
      // A server may answer (413, 431) and close before reading all we send: read the answer anyway.
      if (e && e != asio::error::broken_pipe && e != asio::error::connection_reset) ec = e;
      stream->expires_after(timeout);
      bhttp::async_read(*stream, buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    run();
    if (ec) throw std::runtime_error("http client: " + ec.message());
    auto res = parser.release();
    Response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.add(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) stream.reset();
    return out;
  }
};

Client::Client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

Client::~Client() = default;

Response Client::send(const Request& request) {
  auto& s = *impl_;
  const bool fresh = !s.stream;
  if (fresh) s.connect();
  try {
    return s.exchange(request);
  } catch (const std::runtime_error&) {
    if (fresh) throw;
    s.connect();  // the server closed an idle keep-alive connection: one retry on a new one
    return s.exchange(request);
  }
}

namespace {

Request make(std::string method, std::string target, std::string body, const std::string& bearer) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  if (!body.empty()) r.headers.add("Content-Type", "application/json");
  if (!bearer.empty()) r.headers.add("Authorization", "Bearer " + bearer);
  r.body = std::move(body);
  return r;
}

}  // namespace

Response Client::get(const std::string& target, const std::string& bearer) { return send(make("GET", target, "", bearer)); }
Response Client::post(const std::string& target, const std::string& json, const std::string& bearer) {
  return send(make("POST", target, json, bearer));
}
Response Client::put(const std::string& target, const std::string& json, const std::string& bearer) {
  return send(make("PUT", target, json, bearer));
}
Response Client::del(const std::string& target, const std::string& bearer) { return send(make("DELETE", target, "", bearer)); }

}  // namespace eshop::http
