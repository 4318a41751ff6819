#pragma once
// catalog's use cases. Writes go to the database first, then to the read model.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <catalog/api.hpp>
#include <catalog/events.hpp>
#include <catalog/module.hpp>
#include <eshop/clock.hpp>
#include <eshop/event_bus.hpp>
#include <eshop/text_hash.hpp>

#include "model.hpp"
#include "read_model.hpp"
#include "store.hpp"

namespace eshop::catalog {

class CatalogService final : public Api {
 public:
  CatalogService(Database& db, const Clock& clock, Settings settings);

  std::shared_ptr<const Snapshot> snapshot() const;
  // The read model as the calling thread last saw it, refreshed when a write published a new one,
  // with the pages this thread served from it by raw query string. No lock and no reference count
  // while nothing changed: both I/O threads serve every catalog read. Valid until this thread's
  // next call.
  struct ThreadView {
    std::uint64_t service = 0;
    std::uint64_t version = 0;
    std::shared_ptr<const Snapshot> snapshot;
    std::unordered_map<std::string, std::shared_ptr<const CachedPage>, TextHash, std::equal_to<>> pages;
  };
  ThreadView& thread_view() const;
  Result<Product> create(const ProductFields& fields);
  // Publishes ProductUpdated, and ProductPriceChanged when the price changed, through the outbox.
  Result<Product> update(std::int64_t id, const ProductFields& fields, const std::string& correlation_id);
  // Publishes ProductDeleted through the outbox.
  Result<void> remove(std::int64_t id, const std::string& correlation_id);

  Result<ProductView> find_product(ProductId id) const override;
  bool answers_from_memory() const override { return db_.engine() == Engine::sqlite; }

  // An admin's picture for a product (its type already checked): stored, and the product's
  // imageUrl pointed at it (publishing ProductUpdated). Returns the product.
  Result<Product> set_image(std::int64_t id, const std::string& content_type, const std::string& extension,
                            std::string_view bytes, const std::string& correlation_id);
  struct StoredImage {
    std::string content_type;
    std::string bytes;
  };
  // An uploaded picture by its file name, or nullopt.
  std::optional<StoredImage> image(std::string_view file) const;

  // The saga's stock contract (catalog/events.hpp), in the transaction that records the event in
  // the inbox (EventHandlers, module.cpp). Each returns the products whose stock changed, for
  // refresh() once that transaction committed.
  std::vector<std::int64_t> reserve_stock(Tx& tx, const events::StockReservationRequested& request,
                                          const std::string& correlation_id);
  std::vector<std::int64_t> release_stock(Tx& tx, const events::StockReleaseRequested& request,
                                          const std::string& correlation_id);
  // Publishes the committed rows of `ids` to the read model (taking, or holding, write_mutex_).
  void refresh(const std::vector<std::int64_t>& ids);

 private:
  void publish(std::shared_ptr<const Snapshot> next);
  void publish_committed(const std::vector<std::int64_t>& ids);
  // A product another instance changed (its id), or "*": reload everything.
  void peer_changed(const std::string& payload);

  Database& db_;
  CatalogStore store_;
  const Clock& clock_;
  Settings settings_;
  // Admin writes, and every publish of the read model. Reservations decide inside their own
  // transaction and only publish under it: each publish reads what is committed.
  std::mutex write_mutex_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<std::uint64_t> version_{1};  // bumped by every publish
  const std::uint64_t id_ = next_id_++;    // thread views key on it: an address may be reused
  static inline std::atomic<std::uint64_t> next_id_{1};
  std::unique_ptr<Listening> peers_;  // last: gone before anything its handler uses
};

// Field errors for a create (all required fields present) or an update (only those sent).
FieldErrors validate(const ProductFields& fields, const Snapshot& snapshot, bool creating);

}  // namespace eshop::catalog
