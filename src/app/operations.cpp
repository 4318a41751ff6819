#include "app/operations.hpp"
#include "app/moves.hpp"

#include <eshop/database.hpp>

#include <filesystem>
#include <set>

#include <eshop/auth.hpp>
#include <eshop/remote.hpp>

#include <nlohmann/json.hpp>

namespace eshop::app {
namespace {

nlohmann::json readiness(const OperationsDeps& d, bool& ready) {
  nlohmann::json checks = nlohmann::json::object();
  ready = true;
  for (const auto& [name, h] : d.module_health()) {
    ready = ready && h.ok;
    checks[name] = {{"status", h.ok ? "up" : "down"}, {"detail", h.detail}};
  }
  const bool bus_ok = d.bus.healthy();
  ready = ready && bus_ok;
  checks["eventBus"] = {{"status", bus_ok ? "up" : "down"}, {"detail", d.bus.transport()}};
  return checks;
}

// Each module hosted elsewhere, asked for its liveness (half a second at most). A remote that is
// down does not make this process unready: it still serves everything else, and that module's
// routes answer 503 until it is back.
nlohmann::json remote_states(const ModuleGates& gates) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& view : gates.view()) {
    if (view.place != Place::remote) continue;
    const auto& module = view.module;
    const auto& url = view.url;
    const auto endpoint = remote::parse_base_url(url);
    const bool up = endpoint && remote::get_json(*endpoint, module, "/health/live", "", std::chrono::milliseconds(500));
    out[module] = {{"status", up ? "up" : "down"}, {"url", url}};
  }
  return out;
}

nlohmann::json topology(const OperationsDeps& d) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& view : d.gates.view()) {
    nlohmann::json m{{"name", view.module}, {"location", to_string(view.place)}};
    if (view.place == Place::remote) m["url"] = view.url;
    if (view.held) m["moving"] = true;
    m["movable"] = d.gates.movable(view.module);
    modules.push_back(std::move(m));
  }
  nlohmann::json subs = nlohmann::json::array();
  for (const auto& s : d.bus.subscriptions()) subs.push_back({{"subscriber", s.subscriber}, {"eventType", s.type}});
  const auto process = d.process();
  nlohmann::json bus{{"transport", d.bus.transport()}, {"namespace", process["busNamespace"]}};
  if (!process["broker"].get<std::string>().empty()) bus["broker"] = process["broker"];
  bus["subscriptions"] = subs;
  return {{"version", process["version"]}, {"instance", process["instance"]}, {"modules", modules},
          {"eventBus", bus}, {"lastMove", process["lastMove"]}};
}

// This process, as the architecture page draws it: where each module is (with its database when
// local), the bus and its subscriptions, and the counters the page turns into rates.
// A module's database as the page shows it: the file, or the PostgreSQL URL without its password.
std::string shown_database(const std::string& location) {
  return Database::is_postgresql_url(location) ? without_credentials(location) : location;
}

nlohmann::json process_view(const OperationsDeps& d) {
  auto view = topology(d);
  const auto process = d.process();
  view["url"] = process["url"];
  for (auto& m : view["modules"])
    if (m["location"] == "local")
      m["database"] = shown_database(d.config.database_of(m["name"].get<std::string>()));
  view["counters"] = d.metrics.snapshot();
  view["gauges"] = d.module_gauges();
  view["status"] = "up";
  return view;
}

// The synchronous seams the modules declare (a module calls another's interface), and the
// gateway's own: every request's authentication through identity.
nlohmann::json declared_seams() {
  nlohmann::json seams = nlohmann::json::array();
  for (const auto* d : known_modules())
    for (const auto& used : d->uses) seams.push_back({{"caller", d->name}, {"callee", used}});
  return seams;
}

}  // namespace

void register_operations(http::Router& router, OperationsDeps deps) {
  auto r = router.scope("operations");
  using http::Access;
  r.get("/health/live", Access::anyone, [](http::Request&) {
    return http::Response::json(200, std::string(R"({"status":"live"})"));
  });
  r.get("/health/ready", Access::anyone, [deps](http::Request&) {
    bool ready = false;
    auto checks = readiness(deps, ready);
    nlohmann::json body{{"status", ready ? "ready" : "not_ready"}, {"checks", checks}};
    if (auto remotes = remote_states(deps.gates); !remotes.empty()) body["remotes"] = std::move(remotes);
    return http::Response::json(ready ? 200 : 503, body);
  });
  r.get("/metrics", Access::anyone, [deps](http::Request&) {
    http::Response res;
    res.headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    res.body = deps.metrics.render();
    return res;
  });
  r.get("/openapi.json", Access::anyone, [](http::Request&) {
    return http::Response::json(200, std::string(embedded::openapi_document()));
  });
  // The live architecture page: static files, public (they hold no data); its data comes from the
  // admin-only route below, with the token the page is given.
  auto page = [](std::string_view body, const char* type) {
    return [body, type](http::Request&) {
      http::Response res;
      res.headers.add("Content-Type", type);
      res.headers.add("Cache-Control", "no-cache");
      res.headers.add("Content-Security-Policy",
                      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
      res.headers.add("Referrer-Policy", "no-referrer");
      res.headers.add("X-Content-Type-Options", "nosniff");
      res.body = std::string(body);
      return res;
    };
  };
  r.get("/architecture", Access::anyone, page(embedded::architecture_html(), "text/html; charset=utf-8"));
  // The storefront: the same kind of static files, at the root.
  r.get("/", Access::anyone, page(embedded::store_html(), "text/html; charset=utf-8"));
  r.get("/store/app.js", Access::anyone, page(embedded::store_js(), "text/javascript; charset=utf-8"));
  r.get("/store/app.css", Access::anyone, page(embedded::store_css(), "text/css; charset=utf-8"));
  r.get("/architecture/app.js", Access::anyone, page(embedded::architecture_js(), "text/javascript; charset=utf-8"));
  r.get("/architecture/app.css", Access::anyone, page(embedded::architecture_css(), "text/css; charset=utf-8"));
  r.get("/api/v1/admin/topology", Access::admin, [deps](http::Request&) {
    return http::Response::json(200, topology(deps));
  });
  // The architecture page's data: this process and every process it reaches modules in, asked
  // with the caller's (admin) token, half a second each; one that does not answer is "down".
  r.get("/api/v1/admin/architecture", Access::admin, [deps](http::Request& q) {
    auto self = process_view(deps);
    if (q.query("scope") == "process") return http::Response::json(200, self);
    nlohmann::json processes = nlohmann::json::array({self});
    std::set<std::string> asked{self["url"].get<std::string>()};
    for (const auto& view : deps.gates.view()) {
      if (view.place != Place::remote || !asked.insert(view.url).second) continue;
      nlohmann::json other{{"url", view.url}, {"status", "down"}};
      if (const auto endpoint = remote::parse_base_url(view.url)) {
        const auto bearer = std::string(http::bearer_token(q));
        if (auto answer = remote::get_json(*endpoint, view.module, "/api/v1/admin/architecture?scope=process", bearer,
                                           std::chrono::milliseconds(500)))
          other = std::move(*answer);
      }
      processes.push_back(std::move(other));
    }
    return http::Response::json(200, nlohmann::json{{"processes", processes}, {"seams", declared_seams()}});
  });
}

}  // namespace eshop::app
