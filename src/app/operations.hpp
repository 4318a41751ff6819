#pragma once
// The operational routes: health, metrics, the OpenAPI document, the topology.
#include <vector>

#include <eshop/event_bus.hpp>
#include <eshop/module.hpp>
#include <eshop/router.hpp>

#include "app/config.hpp"
#include "app/metrics.hpp"

namespace eshop::app {

struct OperationsDeps {
  const std::vector<Module*>& modules;
  const EventBus& bus;
  const Metrics& metrics;
  const Config& config;
};

void register_operations(http::Router& router, OperationsDeps deps);

}  // namespace eshop::app

namespace eshop::embedded {
std::string_view openapi_document();  // generated from docs/openapi.json
}
