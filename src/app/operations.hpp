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
  // Who this process is: version, instance, url, bus namespace and broker, the last move.
  std::function<nlohmann::json()> process;
  // Each hosted module's gauges (Module::gauges), by module.
  std::function<nlohmann::json()> module_gauges;
};

void register_operations(http::Router& router, OperationsDeps deps);

}  // namespace eshop::app

namespace eshop::embedded {
std::string_view openapi_document();  // generated from docs/openapi.json
std::string_view architecture_html();  // web/architecture/: the live architecture page
std::string_view architecture_js();
std::string_view architecture_css();
std::string_view store_html();  // web/store/: the storefront
std::string_view store_js();
std::string_view store_css();
}
