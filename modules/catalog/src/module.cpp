#include <catalog/module.hpp>

#include <catalog/events.hpp>
#include <eshop/event_handlers.hpp>

#include "handlers.hpp"
#include "service.hpp"

namespace eshop::catalog {

std::span<const Migration> migrations();  // generated from migrations/catalog

namespace {

class CatalogModuleImpl final : public CatalogModule {
 public:
  explicit CatalogModuleImpl(Deps deps) : db_(deps.db) {
    db_.migrate(migrations());
    service_ = std::make_unique<CatalogService>(deps.db, deps.clock, deps.settings);
  }

  std::string_view name() const override { return descriptor().name; }
  const Api& api() const override { return *service_; }
  void register_routes(http::Router& router) override { register_handlers(router, *service_); }
  // The stock contract of catalog/events.hpp: whoever runs a saga asks, catalog answers.
  // Each in one transaction with the inbox; the read model is refreshed once it committed.
  void subscribe(EventBus& bus) override {
    auto* service = service_.get();
    const auto refresh = [service](const std::vector<std::int64_t>& changed) { service->refresh(changed); };
    EventHandlers on(bus, db_, "catalog");
    on.handle<events::StockReservationRequested>(
        "catalog.reserve_stock",
        [service](Tx& tx, const events::StockReservationRequested& request, const Event& e) {
          return service->reserve_stock(tx, request, e.correlation_id);
        },
        refresh);
    on.handle<events::StockReleaseRequested>(
        "catalog.release_stock",
        [service](Tx& tx, const events::StockReleaseRequested& request, const Event& e) {
          return service->release_stock(tx, request, e.correlation_id);
        },
        refresh);
  }

  HealthCheck check_health() const override { return database_health(db_); }

 private:
  Database& db_;
  std::unique_ptr<CatalogService> service_;
};

}  // namespace

std::unique_ptr<CatalogModule> make_module(Deps deps) { return std::make_unique<CatalogModuleImpl>(std::move(deps)); }

std::vector<std::string> subscriptions() {
  return {std::string(events::StockReservationRequested::kType), std::string(events::StockReleaseRequested::kType)};
}

const ModuleDescriptor& descriptor() {
  static const ModuleDescriptor d{.name = "catalog",
                                  .route_prefix = "/api/v1/catalog",
                                  .uses = {},
                                  .answers_reads_from_memory = true,
                                  .subscriptions = &subscriptions,
                                  .state_events = {events::ProductUpdated::kType},
                                  .commits_on_order_path = true};  // stock reservations
  return d;
}

}  // namespace eshop::catalog
