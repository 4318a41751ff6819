#include <ordering/module.hpp>

#include "handlers.hpp"
#include "saga.hpp"
#include "service.hpp"

namespace eshop::ordering {

std::span<const Migration> migrations();  // generated from migrations/ordering

namespace {

class OrderingModule final : public Module {
 public:
  explicit OrderingModule(Deps deps)
      : db_(deps.db),
        orders_(deps.db, deps.clock),
        saga_(deps.db, deps.clock, deps.payments, deps.shipping, deps.mail, deps.step_delay) {
    db_.migrate(migrations());
  }

  std::string_view name() const override { return descriptor().name; }
  void register_routes(http::Router& router) override { register_handlers(router, orders_); }
  void subscribe(EventBus& bus) override { saga_.subscribe(bus); }
  HealthCheck check_health() const override { return database_health(db_); }
  // The saga's instances per state: how many orders are placed, paid, ..., completed, cancelled.
  nlohmann::json gauges() const override {
    nlohmann::json by_state = nlohmann::json::object();
    db_.read([&](Tx& tx) {
      auto& q = tx.statement("SELECT status, COUNT(*) FROM orders GROUP BY status");
      while (q.next()) by_state[q.text(0)] = q.int64(1);
    });
    return {{"ordersByState", by_state}};
  }

 private:
  Database& db_;
  OrderService orders_;
  Saga saga_;
};

}  // namespace

std::unique_ptr<Module> make_module(Deps deps) { return std::make_unique<OrderingModule>(std::move(deps)); }

std::vector<std::string> subscriptions() { return Saga::subscriptions(); }

const ModuleDescriptor& descriptor() {
  static const ModuleDescriptor d{.name = "ordering",
                                  .route_prefix = "/api/v1/orders",
                                  .uses = {},
                                  .answers_reads_from_memory = false,
                                  .subscriptions = &subscriptions,
                                  .commits_on_order_path = true};
  return d;
}

}  // namespace eshop::ordering
