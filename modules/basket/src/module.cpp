#include <basket/module.hpp>

#include <basket/events.hpp>
#include <catalog/events.hpp>
#include <eshop/event_handlers.hpp>

#include "handlers.hpp"
#include "service.hpp"
#include "store.hpp"

namespace eshop::basket {

std::span<const Migration> migrations();  // generated from migrations/basket

namespace {

class BasketModule final : public Module {
 public:
  explicit BasketModule(Deps deps)
      : db_(deps.db),
        clock_(deps.clock),
        currency_(deps.settings.currency),
        service_(deps.db, deps.clock, deps.catalog, deps.discount, deps.payments, deps.settings.currency) {
    db_.migrate(migrations());
  }

  std::string_view name() const override { return descriptor().name; }
  void register_routes(http::Router& router) override { register_handlers(router, service_, currency_); }

  // The materialized view of catalog's products: each event applied once (inbox).
  void subscribe(EventBus& bus) override {
    namespace ev = catalog::events;
    EventHandlers on(bus, db_, "basket");
    on.handle<ev::ProductPriceChanged>("basket.price_changed", [](Tx& tx, const ev::ProductPriceChanged& e, const Event&) {
      store::update_price(tx, e.product_id, e.new_price);
    });
    on.handle<ev::ProductUpdated>("basket.product_updated", [](Tx& tx, const ev::ProductUpdated& e, const Event&) {
      store::update_product(tx, e.product_id, e.name, e.price, e.available_stock, e.image_url);
    });
    on.handle<ev::ProductDeleted>("basket.product_deleted", [](Tx& tx, const ev::ProductDeleted& e, const Event&) {
      store::remove_product(tx, e.product_id);
    });
    // The saga's compensation: a checkout that failed through no choice of the customer's gives the
    // lines back, added to what the basket holds by then (never past a line's maximum).
    on.handle<events::BasketRestoreRequested>(
        "basket.restore", [this](Tx& tx, const events::BasketRestoreRequested& e, const Event&) {
          const auto now = to_rfc3339(clock_.now());
          for (const auto& l : e.lines)
            store::add_quantity(tx, e.user_id.value, l.product_id, l.quantity, kMaxLineQuantity, now);
          if (e.coupon_code && !store::coupon_code(tx, e.user_id.value))
            store::set_coupon(tx, e.user_id.value, e.coupon_code, now);
        });
  }

  HealthCheck check_health() const override { return database_health(db_); }

 private:
  Database& db_;
  const Clock& clock_;
  std::string currency_;
  BasketService service_;
};

}  // namespace

std::unique_ptr<Module> make_module(Deps deps) { return std::make_unique<BasketModule>(std::move(deps)); }

std::vector<std::string> subscriptions() {
  namespace ev = catalog::events;
  return {std::string(ev::ProductPriceChanged::kType), std::string(ev::ProductUpdated::kType),
          std::string(ev::ProductDeleted::kType), std::string(events::BasketRestoreRequested::kType)};
}

const ModuleDescriptor& descriptor() {
  static const ModuleDescriptor d{"basket", "/api/v1/basket", {"catalog", "discount"}, false, &subscriptions};
  return d;
}

}  // namespace eshop::basket
