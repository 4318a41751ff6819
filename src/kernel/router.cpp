#include <eshop/router.hpp>

#include <array>
#include <stdexcept>

namespace eshop::http {
namespace {

// Splits a path on '/' without allocating; false past kMaxSegments.
constexpr std::size_t kMaxSegments = 16;
bool split_path(std::string_view path, std::array<std::string_view, kMaxSegments>& out, std::size_t& count) {
  count = 0;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    if (count == kMaxSegments) return false;
    const auto slash = path.find('/');
    out[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// The route's pattern takes this path (split into `parts`), whatever the method.
bool takes_path(const Route& r, const std::array<std::string_view, kMaxSegments>& parts, std::size_t count) {
  if (r.segments.size() != count) return false;
  for (std::size_t i = 0; i < count; ++i)
    if (is_param(r.segments[i]) ? parts[i].empty() : r.segments[i] != parts[i]) return false;
  return true;
}

bool takes_method(const Route& r, const Request& request) {
  return r.method == request.method || (request.method == "HEAD" && r.method == "GET");
}

}  // namespace

void Router::add(std::string method, std::string pattern, std::string module, Access access, Handler handler,
                 Throttle throttle) {
  auto route = std::make_unique<Route>();
  std::array<std::string_view, kMaxSegments> segments;
  std::size_t count = 0;
  if (!split_path(pattern, segments, count)) throw std::logic_error("route pattern too deep: " + pattern);
  for (std::size_t i = 0; i < count; ++i) route->segments.emplace_back(segments[i]);
  for (const auto& r : routes_)
    if (r->method == method && r->pattern == pattern) throw std::logic_error("route registered twice: " + pattern);
  route->method = std::move(method);
  route->pattern = std::move(pattern);
  route->module = std::move(module);
  route->access = access;
  route->throttle = throttle;
  route->handler = std::move(handler);
  routes_.push_back(std::move(route));
}

RouteMatch Router::match(Request& request) const {
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t count = 0;
  RouteMatch result;
  if (!split_path(request.path(), parts, count)) return result;
  for (const auto& r : routes_) {
    if (!takes_path(*r, parts, count)) continue;
    if (!takes_method(*r, request)) {
      result.path_known = true;
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += r->method;
      continue;
    }
    request.path_params.clear();
    for (std::size_t i = 0; i < count; ++i)
      if (is_param(r->segments[i]))
        request.path_params.emplace_back(r->segments[i].substr(1, r->segments[i].size() - 2),
                                         percent_decode(parts[i], false));
    result.route = r.get();
    return result;
  }
  return result;
}

const Route* Router::find(const Request& request) const {
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t count = 0;
  if (!split_path(request.path(), parts, count)) return nullptr;
  for (const auto& r : routes_)
    if (takes_path(*r, parts, count) && takes_method(*r, request)) return r.get();
  return nullptr;
}

}  // namespace eshop::http
