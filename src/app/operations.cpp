#include "app/operations.hpp"

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
  r.get("/api/v1/admin/topology", Access::admin, [deps](http::Request&) {
    return http::Response::json(200, topology(deps));
  });
}

}  // namespace eshop::app
