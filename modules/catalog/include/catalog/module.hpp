#pragma once
// For the composition root only: builds the catalog module.
#include <memory>
#include <string>
#include <vector>
#include <string>

#include <catalog/api.hpp>
#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/module.hpp>

namespace eshop::catalog {

struct Settings {
  std::string currency = "USD";
  bool load_demo_data = true;  // on first start, when the catalog is empty
};

struct Deps {
  Database& db;
  const Clock& clock;
  Settings settings;
};

class CatalogModule : public Module {
 public:
  virtual const Api& api() const = 0;
};

std::unique_ptr<CatalogModule> make_module(Deps deps);

// The module's interface over HTTP, against the process at `base_url` (http://host:port) that hosts it.
std::unique_ptr<Api> make_remote(const std::string& base_url);

// The event types this module handles, declared so that a process that does not host it can
// still have a durable transport keep those events for it (EventBus::expect_subscriber).
std::vector<std::string> subscriptions();

// The module's declaration: name, route prefix, what it uses, what it answers from memory.
const ModuleDescriptor& descriptor();

}  // namespace eshop::catalog
