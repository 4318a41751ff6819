#pragma once
// The edge every request passes: request id, routing, authentication and roles,
// the last-resort error boundary, metrics and the access log.
#include <atomic>
#include <map>
#include <mutex>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <eshop/auth.hpp>
#include <eshop/router.hpp>

#include "app/client_address.hpp"
#include "app/metrics.hpp"
#include "app/module_gates.hpp"
#include "app/rate_limiter.hpp"

namespace eshop::app {

class Gateway final {
 public:
  // `authenticator` may be null when no identity is reachable: protected routes then answer 503.
  // `gates` says where each module is served from: its routes run here, or are proxied.
  Gateway(const http::Router& router, const Authenticator* authenticator, Metrics& metrics, bool access_log,
          ModuleGates& gates, RateLimits limits = {}, ClientAddress clients = {{}, "X-Forwarded-For"},
          std::vector<std::string> cors_origins = {});

  // The routes change when a module moves in or out. The old router must outlive every request
  // that may still use it: the caller keeps it.
  void set_router(const http::Router& router) { router_.store(&router); }
  // A GET of `target` on behalf of `parent` (aggregation, BFF): routed like a request, through the
  // module's gate: answered here when the module is local, proxied when it is elsewhere. Not
  // throttled or logged on its own (its parent is).
  http::Response subrequest(const http::Request& parent, std::string target) const;
  // How long a request for a module that is being moved waits for the hand-over.
  static constexpr std::chrono::seconds kHandoverWait{10};

  http::Response handle(http::Request& request) const;
  // Whether the server may run this request on its I/O thread: its route says so (http::Runs) and
  // this process authenticates from memory. Asked for requests that no module answers from memory.
  bool answers_on_io_thread(const http::Request& request) const;
  // The answer to a request the transport refused before it was whole (400, 413, 431).
  http::Response reject(int status, std::string detail, const std::string& peer) const;

 private:
  class EdgeLater;
  struct EdgeDeferral final : http::Deferral {
    EdgeDeferral(const Gateway& g, http::Request& r, const http::Route*& matched,
                 std::chrono::steady_clock::time_point began, http::Deferral* server)
        : gateway(g), request(r), route(matched), start(began), inner(server) {}
    std::shared_ptr<http::Later> take() override;
    const Gateway& gateway;
    http::Request& request;
    const http::Route*& route;  // set by dispatch() before any handler runs
    std::chrono::steady_clock::time_point start;
    http::Deferral* inner;   // the server's
    std::string_view gate;   // the module whose gate the handler runs in, or empty
  };
  // The error boundary: an exception becomes a problem response (503 for a dependency or database
  // that is unavailable, else 500).
  template <class Answer>
  http::Response guarded(http::Request& request, Answer&& answer) const;
  // The edge's last steps for every answer: request id, CORS, metrics, the access log.
  void finish(const http::Request& request, const http::Route* route, http::Response& response,
              std::chrono::steady_clock::time_point start) const;
  bool authenticates_in_memory() const;
  http::Response dispatch(http::Request& request, const http::Route*& route) const;
  std::optional<http::Response> authorize(http::Request& request, const http::Route& route) const;
  // CORS: the answer to a preflight (OPTIONS with Access-Control-Request-Method), or nullopt.
  std::optional<http::Response> preflight(http::Request& request) const;
  // The Access-Control-Allow-Origin a response to this request gets, or empty.
  std::string allowed_origin(const http::Request& request) const;
  // 429 when the client has used up its bucket for the route's group.
  std::optional<http::Response> throttle(const http::Request& request, const http::Route* route) const;
  http::Response proxy(std::string_view module, const std::string& base_url, const http::Request& request) const;
  // Past the gate of the module that owns the request (its route's, or its path's).
  http::Response through_gate(http::Request& request, const http::Route* route, const http::RouteMatch& match) const;
  http::Response unmatched(const http::Request& request, const http::RouteMatch& match) const;

  std::atomic<const http::Router*> router_;
  const Authenticator* authenticator_;
  Metrics& metrics_;
  bool access_log_;
  ModuleGates& gates_;
  // The meter of each seam the gateway crosses (to a module, by HTTP method, local or remote),
  // made at its first use.
  const SeamMeter& meter(std::string_view module, std::string_view method, std::string_view mode) const;
  mutable std::mutex meters_mutex_;
  mutable std::map<std::string, const SeamMeter*, std::less<>> proxy_meters_;
  mutable RateLimiter limiter_;
  ClientAddress clients_;
  std::vector<std::string> cors_origins_;
};

// The incoming X-Request-Id when it is sane (1-128 of [A-Za-z0-9._:-]), else a new UUID.
std::string request_id_for(std::string_view incoming);

}  // namespace eshop::app
