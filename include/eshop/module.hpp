#pragma once
// Every module plugs into the process the same way.
#include <string>
#include <string_view>

#include <eshop/event_bus.hpp>
#include <eshop/router.hpp>

namespace eshop {

struct HealthCheck {
  bool ok = false;
  std::string detail;
};

class Database;
// The usual check for a module: its own database answers a trivial query.
HealthCheck database_health(Database& db);

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  virtual void register_routes(http::Router& router) = 0;
  virtual void subscribe(EventBus& bus) = 0;  // all of the module's subscriptions, in one place
  virtual HealthCheck check_health() const = 0;
};

}  // namespace eshop
