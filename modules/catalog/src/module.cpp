#include <catalog/module.hpp>

#include <catalog/events.hpp>

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
  void subscribe(EventBus& bus) override {
    auto* service = service_.get();
    bus.subscribe("catalog", std::string(events::StockReservationRequested::kType),
                  [service](const Event& e) { service->reserve_stock(e); });
    bus.subscribe("catalog", std::string(events::StockReleaseRequested::kType),
                  [service](const Event& e) { service->release_stock(e); });
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
  static const ModuleDescriptor d{"catalog", "/api/v1/catalog", {}, true, &subscriptions};
  return d;
}

}  // namespace eshop::catalog
