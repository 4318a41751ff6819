#pragma once
// The in-memory read side of the catalog: an immutable snapshot swapped on every write,
// with each product serialized once, and a cache of serialized list pages.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model.hpp"

namespace eshop::catalog {

struct ProductEntry {
  Product product;
  std::string name_lower;     // for sorting and search
  std::string text_lower;     // name and description, for search
  std::string summary_json;   // the list item
  std::string detail_json;    // the detail document
  std::string detail_etag;
};

struct CachedPage {
  std::string body;
  std::string etag;
};

class Snapshot final {
 public:
  std::vector<std::shared_ptr<const ProductEntry>> products;  // ordered by id
  std::map<std::int64_t, Brand> brands;
  std::map<std::int64_t, Category> categories;
  std::map<std::int64_t, Supplier> suppliers;
  std::string brands_json;  // with product counts
  std::string categories_json;
  std::string currency;

  const ProductEntry* find(std::int64_t id) const;
  // A page cached under `key`, or null.
  std::shared_ptr<const CachedPage> cached(const std::string& key) const {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(key);
    return it == cache_.end() ? nullptr : it->second;
  }
  void remember(const std::string& key, std::shared_ptr<const CachedPage> page) const {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kMaxCachedPages) cache_.clear();
    cache_.emplace(key, std::move(page));
  }
  // A serialized page for `key`, computing it with `make` once per snapshot.
  template <class F>
  std::shared_ptr<const CachedPage> page(const std::string& key, F&& make) const {
    if (auto hit = cached(key)) return hit;
    auto page = std::make_shared<const CachedPage>(make());
    remember(key, page);
    return page;
  }

 private:
  static constexpr std::size_t kMaxCachedPages = 4096;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const CachedPage>> cache_;
};

// Builds a snapshot of the whole catalog, serializing every product once.
std::shared_ptr<const Snapshot> build_snapshot(std::vector<Product> products, std::map<std::int64_t, Brand> brands,
                                               std::map<std::int64_t, Category> categories,
                                               std::map<std::int64_t, Supplier> suppliers, std::string currency);
// The previous snapshot with one product inserted, replaced (same id) or removed (`product` null).
std::shared_ptr<const Snapshot> with_product(const Snapshot& previous, std::int64_t id, const Product* product);

// The previous snapshot with several products replaced (same ids, all present).
std::shared_ptr<const Snapshot> with_products(const Snapshot& previous, const std::vector<Product>& changed);

// A strong ETag over a body.
std::string make_etag(std::string_view body);
std::string to_lower(std::string_view s);

}  // namespace eshop::catalog
