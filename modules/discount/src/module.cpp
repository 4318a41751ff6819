#include <discount/module.hpp>

#include "handlers.hpp"
#include "service.hpp"

namespace eshop::discount {

std::span<const Migration> migrations();  // generated from migrations/discount

namespace {

class DiscountModuleImpl final : public DiscountModule {
 public:
  explicit DiscountModuleImpl(Deps deps) : db_(deps.db) {
    db_.migrate(migrations());
    service_ = std::make_unique<DiscountService>(deps.db, deps.clock, deps.settings);
  }

  std::string_view name() const override { return descriptor().name; }
  const Api& api() const override { return *service_; }
  void register_routes(http::Router& router) override { register_handlers(router, *service_); }
  void subscribe(EventBus&) override {}  // discount reacts to no events

  HealthCheck check_health() const override { return database_health(db_); }

 private:
  Database& db_;
  std::unique_ptr<DiscountService> service_;
};

}  // namespace

std::unique_ptr<DiscountModule> make_module(Deps deps) { return std::make_unique<DiscountModuleImpl>(std::move(deps)); }

std::vector<std::string> subscriptions() { return {}; }

const ModuleDescriptor& descriptor() {
  static const ModuleDescriptor d{"discount", "/api/v1/discounts", {}, false, &subscriptions};
  return d;
}

}  // namespace eshop::discount
