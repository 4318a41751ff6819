#include <eshop/http.hpp>
#include <eshop/text.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace eshop::http {
namespace {

using eshop::iequals;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Headers::set(std::string_view name, std::string value) {
  for (auto& [n, v] : fields_)
    if (iequals(n, name)) {
      v = std::move(value);
      return;
    }
  fields_.emplace_back(std::string(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& field) { return iequals(field.first, name); });
}

std::string_view Headers::get(std::string_view name) const {
  for (const auto& [n, v] : fields_)
    if (iequals(n, name)) return v;
  return {};
}

bool Headers::contains(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(), [&](const auto& f) { return iequals(f.first, name); });
}

std::string_view Request::path() const {
  const std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query_string() const {
  const std::string_view t = target;
  const auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [n, v] : path_params)
    if (n == name) return v;
  return {};
}

std::optional<std::int64_t> Request::id_param(std::string_view name) const {
  const auto text = param(name);
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

const std::vector<std::pair<std::string, std::string>>& Request::query_params() const {
  if (!query_params_) query_params_ = parse_query(query_string());
  return *query_params_;
}

std::vector<std::string> Request::query_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query_params())
    if (k == name) out.push_back(v);
  return out;
}

std::optional<std::string> Request::query(std::string_view name) const {
  for (const auto& [k, v] : query_params())
    if (k == name) return v;
  return std::nullopt;
}

namespace {

// If-None-Match uses the weak comparison: W/"x" matches "x"; "*" matches anything.
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    auto tag = if_none_match.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

namespace {

// 304 (and no body) when If-None-Match names the ETag; else a 200 the caller gives its body.
Response conditional(const Request& request, const std::string& etag, bool& matched) {
  Response r;
  r.headers.reserve(4);  // these three and the request id
  r.headers.add("ETag", etag);
  r.headers.add("Cache-Control", "no-cache");
  matched = etag_matches(request.header("If-None-Match"), etag);
  if (matched) r.status = 304;
  else r.headers.add("Content-Type", "application/json");
  return r;
}

}  // namespace

Response conditional_json(const Request& request, const std::string& body, const std::string& etag) {
  bool matched = false;
  auto r = conditional(request, etag, matched);
  if (!matched) r.body = body;
  return r;
}

Response conditional_json(const Request& request, std::shared_ptr<const std::string> body, const std::string& etag) {
  bool matched = false;
  auto r = conditional(request, etag, matched);
  if (!matched) r.shared_body = std::move(body);
  return r;
}

std::string_view bearer_token(const Request& request) {
  std::string_view auth = request.header("Authorization");
  if (auth.size() < 8 || !iequals(auth.substr(0, 7), "bearer ")) return {};
  auth.remove_prefix(7);
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  while (!auth.empty() && auth.back() == ' ') auth.remove_suffix(1);
  return auth;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    if (!part.empty()) {
      const auto eq = part.find('=');
      out.emplace_back(percent_decode(part.substr(0, eq), true),
                       eq == std::string_view::npos ? std::string{} : percent_decode(part.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.headers.reserve(4);
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, const nlohmann::json& body) { return json(status, body.dump()); }
Response Response::json(int status, const nlohmann::ordered_json& body) { return json(status, body.dump()); }

Response Response::no_content() {
  Response r;
  r.status = 204;
  return r;
}

Response Response::deferred() {
  Response r;
  r.status = 0;
  return r;
}

std::shared_ptr<Later> defer(const Request& request) {
  if (!request.deferral) throw std::logic_error("defer: this request is answered on a worker, not later");
  return request.deferral->take();
}

Response blocking(Request& request, std::function<Response()> answer) {
  if (!request.deferral) return answer();
  defer(request)->offload(std::move(answer));
  return Response::deferred();
}

std::optional<std::string> origin_form(std::string_view target) {
  if (!target.empty() && target.front() == '/') return std::string(target);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() < scheme.size() || !iequals(target.substr(0, scheme.size()), scheme)) continue;
    const auto rest = target.substr(scheme.size());
    const auto path = rest.find_first_of("/?");
    if (path == 0 || rest.substr(0, path).find_first_of("#@ ") != std::string_view::npos) return std::nullopt;
    if (path == std::string_view::npos) return std::string("/");
    return rest[path] == '/' ? std::string(rest.substr(path)) : "/" + std::string(rest.substr(path));
  }
  return std::nullopt;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace eshop::http
