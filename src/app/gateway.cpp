#include "app/gateway.hpp"

#include <eshop/database.hpp>

#include <algorithm>
#include <chrono>

#include <eshop/crypto.hpp>
#include <eshop/http_client.hpp>
#include <eshop/problem.hpp>
#include <eshop/remote.hpp>
#include <eshop/text.hpp>
#include <spdlog/spdlog.h>

#include "app/logging.hpp"
#include "app/modules.hpp"

namespace eshop::app {

namespace {
// Set by proxy() for the request this thread is handling: only then does a response carry the
// headers the shop's processes tell each other (X-Eshop-Module, X-Eshop-Route).
thread_local bool t_proxied = false;
}  // namespace

std::string request_id_for(std::string_view incoming) {
  const bool sane = !incoming.empty() && incoming.size() <= 128 &&
                    std::all_of(incoming.begin(), incoming.end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
                    });
  return sane ? std::string(incoming) : crypto::fast_uuid();
}

Gateway::Gateway(const http::Router& router, const Authenticator* authenticator, Metrics& metrics, bool access_log,
                 ModuleGates& gates, RateLimits limits, ClientAddress clients, std::vector<std::string> cors_origins)
    : router_(&router), authenticator_(authenticator), metrics_(metrics), access_log_(access_log), gates_(gates), limiter_(limits), clients_(std::move(clients)),
      cors_origins_(std::move(cors_origins)) {}

std::string Gateway::allowed_origin(const http::Request& request) const {
  if (cors_origins_.empty()) return {};
  const auto origin = request.header("Origin");
  if (origin.empty()) return {};
  for (const auto& allowed : cors_origins_) {
    if (allowed == "*") return "*";
    if (allowed == origin) return std::string(origin);
  }
  return {};
}

std::optional<http::Response> Gateway::preflight(http::Request& request) const {
  if (request.method != "OPTIONS" || request.header("Access-Control-Request-Method").empty()) return std::nullopt;
  http::Request asked;  // no method: no route has it, so the match lists every method the path takes
  asked.target = request.target;
  const auto match = router_.load()->match(asked);
  const auto* owner = gates_.module_for_path(request.path());
  const bool remote = owner && gates_.place(owner->name) == Place::remote;
  if (!match.path_known && !remote) return http::problem(Error::not_found("No route matches this path."));
  const auto origin = allowed_origin(request);
  if (origin.empty())
    return http::problem(Error::make(ErrorCode::forbidden, "This origin may not call the API from a browser (CORS)."));
  auto res = http::Response::no_content();
  // A proxied route's methods are its own process's business: the method asked for is allowed here.
  const std::string methods = match.path_known ? match.allow : std::string(request.header("Access-Control-Request-Method"));
  res.headers.add("Access-Control-Allow-Methods", methods);
  res.headers.add("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Basket-Token, X-Request-Id");
  res.headers.add("Access-Control-Max-Age", "600");
  return res;
}

http::Response Gateway::proxy(std::string_view module, const std::string& base_url, const http::Request& request) const {
  static const std::vector<std::string_view> hop_by_hop = {"connection", "keep-alive", "transfer-encoding", "host",
                                                          "content-length", "upgrade", "te", "trailer",
                                                          "proxy-authorization", "proxy-connection"};
  auto is_hop = [&](std::string_view name) {
    std::string lower(name);
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return std::find(hop_by_hop.begin(), hop_by_hop.end(), lower) != hop_by_hop.end();
  };
  const auto endpoint = remote::parse_base_url(base_url);
  // Two processes that each think the other hosts a module would pass a request back and forth.
  int hops = 0;
  if (const auto seen = request.header("X-Eshop-Hops"); !seen.empty()) hops = std::atoi(std::string(seen).c_str());
  if (hops >= 3)
    return http::problem(Error::make(ErrorCode::unavailable, "The " + std::string(module) +
                                                                 " module is being moved; retry in a moment."));
  http::Request forward;
  forward.method = request.method;
  forward.target = request.target;
  forward.body = request.body;
  // This process is now a proxy: it adds its peer to the X-Forwarded-For chain, for the module's
  // process to believe if it trusts this one (--trusted-proxies).
  std::string chain;
  for (const auto& [name, value] : request.headers.fields()) {
    if (is_hop(name) || iequals(name, "X-Eshop-Hops")) continue;
    if (iequals(name, "X-Forwarded-For")) chain += value + ", ";
    else forward.headers.add(name, value);
  }
  forward.headers.add("X-Forwarded-For", chain + request.remote_address);
  forward.headers.set("X-Request-Id", request.request_id);  // the same id in both processes' logs and events
  forward.headers.set("X-Eshop-Hops", std::to_string(hops + 1));
  const auto& meter = this->meter(module, request.method, "remote");
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  try {
    http::Client client(endpoint->host, endpoint->port, std::chrono::seconds(10));
    auto answer = client.send(forward);
    http::Response response;
    response.status = answer.status;
    response.body = std::move(answer.body);
    for (const auto& [name, value] : answer.headers.fields())
      if (!is_hop(name)) response.headers.add(name, value);
    // Which module answered (the route comes from that process, in X-Eshop-Route): for the logs
    // and metrics of this one.
    response.headers.set("X-Eshop-Module", std::string(module));
    t_proxied = true;
    meter.observe(response.status == 503   ? SeamMeter::Outcome::unavailable
                  : response.status >= 500 ? SeamMeter::Outcome::error
                                           : SeamMeter::Outcome::ok,
                  seconds());
    return response;
  } catch (const std::exception&) {
    meter.observe(SeamMeter::Outcome::unavailable, seconds());
    return http::problem(Error::make(ErrorCode::unavailable, "The " + std::string(module) + " module is unreachable."));
  }
}

const SeamMeter& Gateway::meter(std::string_view module, std::string_view method, std::string_view mode) const {
  std::string key = std::string(module) + ' ' + std::string(method) + ' ' + std::string(mode);
  std::lock_guard lock(meters_mutex_);
  if (const auto it = proxy_meters_.find(key); it != proxy_meters_.end()) return *it->second;
  const auto& meter = metrics_.seam("gateway", module, method, mode);
  proxy_meters_.emplace(std::move(key), &meter);
  return meter;
}

std::optional<http::Response> Gateway::authorize(http::Request& request, const http::Route& route) const {
  if (route.access == http::Access::anyone) return std::nullopt;
  if (route.access == http::Access::user_or_guest && http::bearer_token(request).empty()) return std::nullopt;
  if (!authenticator_)
    return http::problem(Error::make(ErrorCode::unavailable, "Authentication is unavailable: identity is not reachable."));
  const auto token = http::bearer_token(request);
  if (token.empty())
    return http::problem(Error::make(ErrorCode::unauthorized, "This route needs a bearer token from login."));
  request.user = authenticator_->authenticate(token);
  if (!request.user)
    return http::problem(Error::make(ErrorCode::unauthorized, "The bearer token is invalid, expired or revoked."));
  if (route.access == http::Access::admin && !request.user->has_role(kAdminRole))
    return http::problem(Error::make(ErrorCode::forbidden, "This route needs the admin role."));
  return std::nullopt;
}

std::optional<http::Response> Gateway::throttle(const http::Request& request, const http::Route* route) const {
  const auto path = request.path();
  if (path.starts_with("/health/") || path == "/metrics") return std::nullopt;  // probes are never throttled
  const auto wait = limiter_.take(request.client_address, RateLimiter::group_of(request.method, route));
  if (!wait) return std::nullopt;
  return http::problem(
      Error::too_many("Too many requests from this client; retry after " + std::to_string(*wait) + " s.", *wait));
}

http::Response Gateway::unmatched(const http::Request& request, const http::RouteMatch& match) const {
  if (match.path_known) {
    auto res = http::problem(Error::make(ErrorCode::method_not_allowed, "This path does not accept " + request.method + "."));
    res.headers.add("Allow", match.allow);
    return res;
  }
  return http::problem(Error::not_found("No route matches this path."));
}

http::Response Gateway::through_gate(http::Request& request, const http::Route* route,
                                     const http::RouteMatch& match) const {
  const ModuleDescriptor* owner =
      route ? find_module(route->module) : gates_.module_for_path(request.path());
  if (!owner) {  // the operational routes: always here
    if (!route) return unmatched(request, match);
    if (auto denied = authorize(request, *route)) return *denied;
    return route->handler(request);
  }
  if (request.deferral) {
    // On an I/O thread, nothing may wait: a module that is held for a move, or served elsewhere
    // (proxied), or an authentication that is not in memory, goes to a worker (and from there the
    // way it always went).
    const bool local_now = gates_.try_enter_local(owner->name);
    if (!local_now || (route && route->access != http::Access::anyone && !authenticates_in_memory())) {
      if (local_now) gates_.leave(owner->name);
      return http::blocking(request, [this, &request, route, match] { return through_gate(request, route, match); });
    }
  } else {
    const auto way = gates_.enter(owner->name, kHandoverWait);
    if (way.timed_out)
      return http::problem(Error::unavailable("The " + std::string(owner->name) +
                                                  " module is moving to another process; retry in a moment.",
                                              1));
    if (way.place == Place::remote) {
      // Authentication at the edge: a token this process can check is checked before the request
      // leaves (the module's own process checks again what each route needs).
      if (authenticator_ && !http::bearer_token(request).empty() &&
          !authenticator_->authenticate(http::bearer_token(request)))
        return http::problem(Error::make(ErrorCode::unauthorized, "The bearer token is invalid, expired or revoked."));
      return proxy(owner->name, way.url, request);
    }
    if (way.place != Place::local) return unmatched(request, match);
  }
  // Inside the module's gate, which the request leaves when it is answered: here, or, for an
  // answer deferred on an I/O thread, when that answer is given (see EdgeLater), so that a move
  // waits for it.
  struct Leave {
    ModuleGates& gates;
    std::string_view module;
    bool armed = true;
    ~Leave() {
      if (armed) gates.leave(module);
    }
  } leave{gates_, owner->name};
  if (!route) return unmatched(request, match);
  if (auto denied = authorize(request, *route)) return *denied;
  if (request.deferral) static_cast<EdgeDeferral*>(request.deferral)->gate = owner->name;
  auto response = route->handler(request);
  if (response.is_deferred()) leave.armed = false;
  return response;
}

http::Response Gateway::subrequest(const http::Request& parent, std::string target) const {
  http::Request sub;
  sub.method = "GET";
  sub.target = std::move(target);
  sub.request_id = parent.request_id;
  sub.remote_address = parent.remote_address;
  sub.client_address = parent.client_address;
  sub.headers.set("X-Request-Id", parent.request_id);
  const auto match = router_.load()->match(sub);
  const ModuleDescriptor* owner = match.route ? find_module(match.route->module) : gates_.module_for_path(sub.path());
  const bool local = owner && gates_.place(owner->name) == Place::local;  // a remote one is metered by proxy()
  const auto start = std::chrono::steady_clock::now();
  auto response = through_gate(sub, match.route, match);
  if (local)
    meter(owner->name, "GET", "local")
        .observe(response.status == 503   ? SeamMeter::Outcome::unavailable
                 : response.status >= 500 ? SeamMeter::Outcome::error
                                          : SeamMeter::Outcome::ok,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return response;
}

http::Response Gateway::dispatch(http::Request& request, const http::Route*& route) const {
  if (auto answer = preflight(request)) return *answer;
  const auto match = router_.load()->match(request);
  route = match.route;
  if (auto refused = throttle(request, route)) return *refused;
  return through_gate(request, route, match);
}

template <class Answer>
http::Response Gateway::guarded(http::Request& request, Answer&& answer) const {
  http::Response response;
  try {
    response = answer();
  } catch (const DependencyUnavailable& e) {
    response = http::problem(Error::unavailable(e.what()));
  } catch (const DatabaseUnavailable& e) {
    // PostgreSQL is down or restarting: the request changed nothing, and may be sent again.
    spdlog::warn("\"msg\":\"database unavailable\",\"requestId\":{},\"error\":{}", json_quote(request.request_id),
                 json_quote(e.what()));
    response = http::problem(Error::unavailable("The database is unavailable for a moment; retry shortly.", 2));
  } catch (const std::exception& e) {
    spdlog::error("\"msg\":\"unhandled error\",\"requestId\":{},\"error\":{}", json_quote(request.request_id),
                  json_quote(e.what()));
    response = http::problem(Error::make(ErrorCode::internal, ""));
  } catch (...) {
    spdlog::error("\"msg\":\"unhandled error\",\"requestId\":{}", json_quote(request.request_id));
    response = http::problem(Error::make(ErrorCode::internal, ""));
  }
  return response;
}

bool Gateway::answers_on_io_thread(const http::Request& request) const {
  const auto* route = router_.load()->find(request);
  return route && route->runs == http::Runs::io_thread &&
         (route->access == http::Access::anyone || authenticates_in_memory());
}

bool Gateway::authenticates_in_memory() const { return authenticator_ && authenticator_->answers_from_memory(); }

// The Later a handler on an I/O thread takes: its answer passes the edge's last steps (finish())
// and leaves the module's gate, wherever and whenever it comes.
class Gateway::EdgeLater final : public http::Later {
 public:
  EdgeLater(const Gateway& gateway, http::Request& request, const http::Route* route, std::string_view gate,
            std::chrono::steady_clock::time_point start, std::shared_ptr<http::Later> inner)
      : gateway_(gateway), request_(request), route_(route), gate_(gate), start_(start), inner_(std::move(inner)) {}
  void respond(std::function<http::Response()> answer) override {
    inner_->respond(finishing(std::move(answer)));
  }
  void offload(std::function<http::Response()> answer) override {
    inner_->offload(finishing(std::move(answer)));
  }

 private:
  std::function<http::Response()> finishing(std::function<http::Response()> answer) {
    return [&gateway = gateway_, &request = request_, route = route_, gate = gate_, start = start_,
            answer = std::move(answer)] {
      t_proxied = false;
      auto response = gateway.guarded(request, answer);
      if (response.is_deferred()) {  // a second deferral: not allowed
        spdlog::error("\"msg\":\"a deferred answer deferred again\",\"requestId\":{}", json_quote(request.request_id));
        response = http::problem(Error::make(ErrorCode::internal, ""));
      }
      if (!gate.empty()) gateway.gates_.leave(gate);
      gateway.finish(request, route, response, start);
      return response;
    };
  }

  const Gateway& gateway_;
  http::Request& request_;  // kept by the server until the answer is sent
  const http::Route* route_;
  std::string_view gate_;  // the module whose gate the request entered, or empty
  std::chrono::steady_clock::time_point start_;
  std::shared_ptr<http::Later> inner_;
};

std::shared_ptr<http::Later> Gateway::EdgeDeferral::take() {
  request.deferral = inner;  // the server's: take() clears it
  return std::make_shared<EdgeLater>(gateway, request, route, gate, start, inner->take());
}

http::Response Gateway::handle(http::Request& request) const {
  const auto start = std::chrono::steady_clock::now();
  request.request_id = request_id_for(request.header("X-Request-Id"));
  request.client_address = clients_.of(request.remote_address, request.headers);
  const http::Route* route = nullptr;
  t_proxied = false;
  // On an I/O thread: a handler that defers its answer gets an EdgeLater, and finish() runs then.
  std::optional<EdgeDeferral> edge;
  if (request.deferral) request.deferral = &edge.emplace(*this, request, route, start, request.deferral);
  http::Response response = guarded(request, [&] { return dispatch(request, route); });
  if (response.is_deferred()) return response;
  if (edge) request.deferral = edge->inner;
  finish(request, route, response, start);
  return response;
}

void Gateway::finish(const http::Request& request, const http::Route* route, http::Response& response,
                     std::chrono::steady_clock::time_point start) const {
  response.headers.set("X-Request-Id", request.request_id);
  if (!cors_origins_.empty()) {
    response.headers.set("Vary", "Origin");
    if (const auto origin = allowed_origin(request); !origin.empty()) {
      response.headers.set("Access-Control-Allow-Origin", origin);
      response.headers.set("Access-Control-Expose-Headers", "Location, ETag, Retry-After, X-Request-Id");
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string_view module = route ? std::string_view(route->module) : "none";
  std::string_view pattern = route ? std::string_view(route->pattern) : "unmatched";
  // A request that came through another process's gateway says which route answered it, for that
  // gateway's logs and metrics; one that this process proxied is labelled with what came back.
  const bool proxied_to_us = !request.header("X-Eshop-Hops").empty();
  std::string answered_module, answered_route;
  if (route && proxied_to_us) {
    response.headers.set("X-Eshop-Route", route->pattern);
  } else if (!route && t_proxied && response.headers.contains("X-Eshop-Module")) {
    answered_module = response.headers.get("X-Eshop-Module");
    answered_route = response.headers.get("X-Eshop-Route");
    if (answered_route.empty()) answered_route = "unmatched";
    module = answered_module;
    pattern = answered_route;
  }
  if (t_proxied && !proxied_to_us) {  // between processes of the shop only
    response.headers.remove("X-Eshop-Module");
    response.headers.remove("X-Eshop-Route");
  }
  if (!answered_module.empty()) metrics_.observe_proxied(module, pattern, request.method, response.status, seconds);
  else metrics_.observe_request(route, response.status, seconds);
  if (access_log_)
    log_request(request.request_id, request.client_address, request.method, pattern, module, response.status,
                seconds * 1000);
}

http::Response Gateway::reject(int status, std::string detail, const std::string& peer) const {
  auto response = http::problem(status, std::move(detail));
  const auto id = crypto::fast_uuid();
  response.headers.set("X-Request-Id", id);
  metrics_.observe_request(nullptr, status, 0);
  if (access_log_) log_request(id, peer, "", "unmatched", "none", status, 0);
  return response;
}

}  // namespace eshop::app
