#include <eshop/remote.hpp>

#include <charconv>

#include <eshop/http_client.hpp>
#include <eshop/problem.hpp>

namespace eshop::remote {

std::optional<Endpoint> parse_base_url(const std::string& url) {
  std::string_view rest = url;
  if (!rest.starts_with("http://")) return std::nullopt;
  rest.remove_prefix(7);
  if (rest.ends_with("/")) rest.remove_suffix(1);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || rest.find('/') != std::string_view::npos) return std::nullopt;
  unsigned port = 0;
  const auto digits = rest.substr(colon + 1);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || port == 0 || port > 65535) return std::nullopt;
  return Endpoint{std::string(rest.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

Result<nlohmann::json> get_json(const Endpoint& endpoint, const std::string& module, const std::string& target,
                                const std::string& bearer, std::chrono::milliseconds timeout) {
  http::Response res;
  try {
    http::Client client(endpoint.host, endpoint.port, timeout);
    res = client.get(target, bearer);
  } catch (const std::exception&) {
    return fail(Error::make(ErrorCode::unavailable, "The " + module + " module is unreachable."));
  }
  auto body = nlohmann::json::parse(res.body, nullptr, false);
  if (res.status >= 500 || body.is_discarded())
    return fail(Error::make(ErrorCode::unavailable, "The " + module + " module did not answer properly."));
  if (res.status >= 400) {
    ErrorCode code = ErrorCode::bad_request;
    for (auto c : {ErrorCode::not_found, ErrorCode::unauthorized, ErrorCode::forbidden, ErrorCode::conflict,
                   ErrorCode::validation})
      if (http::status_of(c) == res.status) code = c;
    return fail(Error::make(code, body.value("detail", "")));
  }
  return body;
}

}  // namespace eshop::remote
