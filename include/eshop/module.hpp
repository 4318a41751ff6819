#pragma once
// Every module plugs into the process the same way.
#include <string>
#include <string_view>
#include <vector>

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

// What a module says about itself, in one place (its module.cpp), so that the composition root,
// the configuration, the gateway and the operations name no module: hosting, proxying or moving
// a module, or adding one, needs no special case anywhere.
struct ModuleDescriptor {
  std::string_view name;                        // "ordering"
  std::string_view route_prefix;                // "/api/v1/orders": its routes; proxied there when it runs elsewhere
  std::vector<std::string_view> uses;           // modules whose interfaces it calls: here, or named by --remote
  bool answers_reads_from_memory = false;       // its GET routes are answered on the I/O threads, never waiting
  std::vector<std::string> (*subscriptions)();  // the event types it handles (a durable bus keeps them for it)
  // It may move to another process while the shop runs (see app/module_gates.cpp: also only when
  // no module calls its interface in-process). False for the module every process authenticates by.
  bool movable_live = true;
  // Events of its own that carry the whole current state of their key (catalog's product_updated:
  // name, price, stock, picture). Latest wins, as in a compacted log: when several of one key wait
  // back to back in its outbox relay, only the last is delivered. A hot product's stock changes
  // then cost one delivery per batch, not one each.
  std::vector<std::string_view> state_events = {};
  // Its database's commits are steps of orders in flight, which the next step (in it or in another
  // module) waits for: ordering's saga, catalog's stock reservations. On SQLite its commit thread
  // then runs ahead of the shop's other threads (DatabaseOptions::commits_ahead). A module whose
  // commits are mostly its own requests' leaves it false: basket's are shoppers' edits, which
  // nothing downstream waits for, and at that priority they took the cores from the saga's steps
  // (twenty-third session of docs/performance.md: half-rate p99 47 and 50 ms at the normal
  // priority against 68 and 77 at the higher one, basket's own write rate the same).
  bool commits_on_order_path = false;
  // Throttling is declared per route (http::Throttle), where it is exact.
};

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  virtual void register_routes(http::Router& router) = 0;
  virtual void subscribe(EventBus& bus) = 0;  // all of the module's subscriptions, in one place
  virtual HealthCheck check_health() const = 0;
  // A few counts of the module's state for the architecture page (ordering: orders per saga
  // state); an empty object when it has none to tell. Cheap: asked every second while watched.
  virtual nlohmann::json gauges() const { return nlohmann::json::object(); }
};

}  // namespace eshop
