#include "app/operations.hpp"

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

nlohmann::json topology(const OperationsDeps& d) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& name : kAllModules) {
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
    return http::Response::json(ready ? 200 : 503,
                                nlohmann::json{{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
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
