// HTTP request parsing and its limits, as the server reads a request off a socket: Beast's parser
// with the server's header and body limits, then the RFC 9112 checks the server adds (Host,
// Transfer-Encoding and Content-Length, the target's form) and the move into the kernel's request.
#include <cstddef>
#include <cstdint>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "net/request_framing.hpp"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::asio::const_buffer input(data, size);
  // Requests follow one another on a keep-alive connection: parse as many as the bytes hold.
  while (input.size() > 0) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    const auto used = parser.put(input, ec);
    if (ec == bhttp::error::need_more) {
      parser.put_eof(ec);
      if (ec) return 0;
    } else if (ec || used == 0) {
      return 0;
    }
    input += used;
    if (!parser.is_done()) return 0;
    auto message = parser.release();
    if (eshop::net::framing_refusal(message)) return 0;  // the connection closes after a refusal
    eshop::http::Request request;
    if (eshop::net::to_request(std::move(message), request)) return 0;
    (void)request.path();
    (void)request.query_string();
    (void)request.header("Authorization");
  }
  return 0;
}
