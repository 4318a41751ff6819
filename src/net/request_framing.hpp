#pragma once
// What RFC 9112 asks of a server beyond what Beast's parser checks: one Host, unambiguous message
// framing, and a request target in origin form. Shared by the server and its fuzz target.
#include <optional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <eshop/http.hpp>

namespace eshop::net {

struct Refusal {
  int status;  // 400 or 501; the connection is closed after the answer
  std::string detail;
};

// Checks a whole parsed request: Host (§3.2), Transfer-Encoding and Content-Length (§6.1, §6.3).
std::optional<Refusal> framing_refusal(const boost::beast::http::request<boost::beast::http::string_body>& request);

// Moves a parsed request into the kernel's type; a refusal for a target that is neither in origin
// form nor in absolute form (which is reduced to origin form, RFC 9112 §3.2.2).
std::optional<Refusal> to_request(boost::beast::http::request<boost::beast::http::string_body>&& from,
                                  http::Request& to);

}  // namespace eshop::net
