#include <catalog/module.hpp>

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

  std::string_view name() const override { return "catalog"; }
  const Api& api() const override { return *service_; }
  void register_routes(http::Router& router) override { register_handlers(router, *service_); }
  void subscribe(EventBus&) override {}  // catalog reacts to no events yet

  HealthCheck check_health() const override {
    return db_.ping() ? HealthCheck{true, "database reachable"} : HealthCheck{false, "database unreachable"};
  }

 private:
  Database& db_;
  std::unique_ptr<CatalogService> service_;
};

}  // namespace

std::unique_ptr<CatalogModule> make_module(Deps deps) { return std::make_unique<CatalogModuleImpl>(std::move(deps)); }

}  // namespace eshop::catalog
