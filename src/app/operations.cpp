#include "app/operations.hpp"

#include <eshop/remote.hpp>

#include <nlohmann/json.hpp>

namespace eshop::app {
namespace {

nlohmann::json readiness(const OperationsDeps& d, bool& ready) {
  nlohmann::json checks = nlohmann::json::object();
  ready = true;
  for (const auto* m : d.modules) {
    const auto h = m->check_health();
    ready = ready && h.ok;
    checks[std::string(m->name())] = {{"status", h.ok ? "up" : "down"}, {"detail", h.detail}};
  }
  const bool bus_ok = d.bus.healthy();
  ready = ready && bus_ok;
  checks["eventBus"] = {{"status", bus_ok ? "up" : "down"}, {"detail", d.bus.transport()}};
  return checks;
}

// Each module hosted elsewhere, asked for its liveness (half a second at most). A remote that is
// down does not make this process unready: it still serves everything else, and that module's
// routes answer 503 until it is back.
nlohmann::json remote_states(const Config& c) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [module, url] : c.remotes) {
    const auto endpoint = remote::parse_base_url(url);
    const bool up = endpoint && remote::get_json(*endpoint, module, "/health/live", "", std::chrono::milliseconds(500));
    out[module] = {{"status", up ? "up" : "down"}, {"url", url}};
  }
  return out;
}

nlohmann::json topology(const OperationsDeps& d) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& name : module_names()) {
    if (d.config.hosts(name)) modules.push_back({{"name", name}, {"location", "local"}});
    else if (auto it = d.config.remotes.find(name); it != d.config.remotes.end())
      modules.push_back({{"name", name}, {"location", "remote"}, {"url", it->second}});
    else modules.push_back({{"name", name}, {"location", "absent"}});
  }
  nlohmann::json subs = nlohmann::json::array();
  for (const auto& s : d.bus.subscriptions()) subs.push_back({{"subscriber", s.subscriber}, {"eventType", s.type}});
  return {{"modules", modules}, {"eventBus", {{"transport", d.bus.transport()}, {"subscriptions", subs}}}};
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
    if (!deps.config.remotes.empty()) body["remotes"] = remote_states(deps.config);
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
