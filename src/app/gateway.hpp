#pragma once
// The edge every request passes: request id, routing, authentication and roles,
// the last-resort error boundary, metrics and the access log.
#include <string>
#include <vector>

#include <eshop/auth.hpp>
#include <eshop/router.hpp>

#include "app/client_address.hpp"
#include "app/metrics.hpp"
#include "app/rate_limiter.hpp"

namespace eshop::app {

// A module hosted by another process: its routes are proxied there.
struct RemoteRoute {
  std::string module;
  std::string base_url;  // http://host:port
  std::string prefix;    // the module's declared route prefix: "/api/v1/orders"
};

class Gateway final {
 public:
  // `authenticator` may be null when no identity is reachable: protected routes then answer 503.
  Gateway(const http::Router& router, const Authenticator* authenticator, Metrics& metrics, bool access_log,
          std::vector<RemoteRoute> remotes = {}, RateLimits limits = {}, ClientAddress clients = {{}, "X-Forwarded-For"},
          std::vector<std::string> cors_origins = {});

  http::Response handle(http::Request& request) const;
  // The answer to a request the transport refused before it was whole (400, 413, 431).
  http::Response reject(int status, std::string detail, const std::string& peer) const;

 private:
  http::Response dispatch(http::Request& request, const http::Route*& route) const;
  std::optional<http::Response> authorize(http::Request& request, const http::Route& route) const;
  // CORS: the answer to a preflight (OPTIONS with Access-Control-Request-Method), or nullopt.
  std::optional<http::Response> preflight(http::Request& request) const;
  // The Access-Control-Allow-Origin a response to this request gets, or empty.
  std::string allowed_origin(const http::Request& request) const;
  // 429 when the client has used up its bucket for the route's group.
  std::optional<http::Response> throttle(const http::Request& request, const http::Route* route) const;
  // The remote module whose routes start this path, if any.
  const RemoteRoute* remote_for(std::string_view path) const;
  http::Response proxy(const RemoteRoute& remote, const http::Request& request) const;

  const http::Router& router_;
  const Authenticator* authenticator_;
  Metrics& metrics_;
  bool access_log_;
  std::vector<RemoteRoute> remotes_;
  mutable RateLimiter limiter_;
  ClientAddress clients_;
  std::vector<std::string> cors_origins_;
};

// The path prefix of a module's routes: "/api/v1/orders" for ordering.
std::string_view path_prefix(std::string_view module);

// The incoming X-Request-Id when it is sane (1-128 of [A-Za-z0-9._:-]), else a new UUID.
std::string request_id_for(std::string_view incoming);

}  // namespace eshop::app
