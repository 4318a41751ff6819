#pragma once
// catalog's use cases. Writes go to the database first, then to the read model.
#include <memory>
#include <mutex>

#include <catalog/api.hpp>
#include <catalog/module.hpp>
#include <eshop/clock.hpp>
#include <eshop/event_bus.hpp>

#include "model.hpp"
#include "read_model.hpp"
#include "store.hpp"

namespace eshop::catalog {

class CatalogService final : public Api {
 public:
  CatalogService(Database& db, const Clock& clock, Settings settings);

  std::shared_ptr<const Snapshot> snapshot() const;
  Result<Product> create(const ProductFields& fields);
  // Publishes ProductUpdated, and ProductPriceChanged when the price changed, through the outbox.
  Result<Product> update(std::int64_t id, const ProductFields& fields, const std::string& correlation_id);
  // Publishes ProductDeleted through the outbox.
  Result<void> remove(std::int64_t id, const std::string& correlation_id);

  Result<ProductView> find_product(ProductId id) const override;

  // The saga's stock contract (catalog/events.hpp), each event applied once.
  void reserve_stock(const Event& request);
  void release_stock(const Event& request);

 private:
  void publish(std::shared_ptr<const Snapshot> next);

  Database& db_;
  CatalogStore store_;
  const Clock& clock_;
  Settings settings_;
  std::mutex write_mutex_;  // one writer: database order and snapshot order agree
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
};

// Field errors for a create (all required fields present) or an update (only those sent).
FieldErrors validate(const ProductFields& fields, const Snapshot& snapshot, bool creating);

}  // namespace eshop::catalog
