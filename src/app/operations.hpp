#pragma once
// The operational routes: health, metrics, the OpenAPI document, the topology.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eshop/event_bus.hpp>
#include <eshop/module.hpp>
#include <eshop/router.hpp>

#include "app/config.hpp"
#include "app/metrics.hpp"
#include "app/module_gates.hpp"

namespace eshop::app {

struct OperationsDeps {
  // Each hosted module's health, in the list's order (modules come and go when they move).
  std::function<std::vector<std::pair<std::string, HealthCheck>>()> module_health;
  const EventBus& bus;
  const Metrics& metrics;
  const Config& config;
  const ModuleGates& gates;
  // Who this process is: version, instance, bus namespace and broker, the last move.
  std::function<nlohmann::json()> process;
};

void register_operations(http::Router& router, OperationsDeps deps);

}  // namespace eshop::app

namespace eshop::embedded {
std::string_view openapi_document();  // generated from docs/openapi.json
}
