#pragma once
// For the composition root only: builds the discount module.
#include <memory>
#include <string>
#include <vector>

#include <discount/api.hpp>
#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/module.hpp>

namespace eshop::discount {

struct Settings {
  bool load_demo_data = true;  // on first start, when there are no coupons
};

struct Deps {
  Database& db;
  const Clock& clock;
  Settings settings;
};

class DiscountModule : public Module {
 public:
  virtual const Api& api() const = 0;
};

std::unique_ptr<DiscountModule> make_module(Deps deps);

// The module's interface over HTTP, against the process at `base_url` (http://host:port) that hosts it.
std::unique_ptr<Api> make_remote(const std::string& base_url);

// The event types this module handles, declared so that a process that does not host it can
// still have a durable transport keep those events for it (EventBus::expect_subscriber).
std::vector<std::string> subscriptions();

// The module's declaration: name, route prefix, what it uses, what it answers from memory.
const ModuleDescriptor& descriptor();

}  // namespace eshop::discount
