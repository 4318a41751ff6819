#include "net/request_framing.hpp"

#include <algorithm>

namespace eshop::net {
namespace bhttp = boost::beast::http;

namespace {

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The transfer codings of every Transfer-Encoding line, in order, without parameters.
std::vector<std::string> transfer_codings(const bhttp::fields& fields) {
  std::vector<std::string> out;
  const auto [first, last] = fields.equal_range(bhttp::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    std::string_view value = it->value();
    while (true) {
      const auto comma = value.find(',');
      auto coding = value.substr(0, comma);
      coding = coding.substr(0, coding.find(';'));
      if (auto name = lower_trimmed(coding); !name.empty()) out.push_back(std::move(name));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return out;
}

}  // namespace

std::optional<Refusal> framing_refusal(const bhttp::request<bhttp::string_body>& request) {
  const auto hosts = request.count(bhttp::field::host);
  if (hosts > 1) return Refusal{400, "A request must carry one Host header, not several."};
  if (hosts == 0 && request.version() >= 11) return Refusal{400, "An HTTP/1.1 request must carry a Host header."};
  if (request.count(bhttp::field::transfer_encoding) == 0) return std::nullopt;
  if (request.count(bhttp::field::content_length) > 0)
    return Refusal{400, "A request must not carry both Transfer-Encoding and Content-Length."};
  if (request.version() < 11) return Refusal{400, "An HTTP/1.0 request must not carry Transfer-Encoding."};
  const auto codings = transfer_codings(request);
  if (codings.empty() || codings.back() != "chunked")
    return Refusal{400, "The final transfer coding of a request must be chunked."};
  for (std::size_t i = 0; i + 1 < codings.size(); ++i)
    return Refusal{501, "The transfer coding '" + codings[i].substr(0, 32) + "' is not supported; send chunked only."};
  return std::nullopt;
}

std::optional<Refusal> to_request(bhttp::request<bhttp::string_body>&& from, http::Request& to) {
  const std::string_view target = from.target();
  auto origin = http::origin_form(target);
  if (!origin) return Refusal{400, "The request target must be an absolute path such as /api/v1/catalog/products."};
  to.method = std::string(from.method_string());
  to.target = std::move(*origin);
  to.headers.reserve(static_cast<std::size_t>(std::distance(from.begin(), from.end())));
  for (const auto& field : from) to.headers.add(std::string(field.name_string()), std::string(field.value()));
  to.body = std::move(from.body());
  return std::nullopt;
}

}  // namespace eshop::net
