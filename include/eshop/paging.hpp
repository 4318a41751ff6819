#pragma once
// The API's paging rules: page is 1-based (default 1), pageSize 1-100 (default 20).
#include <cstdint>

#include <eshop/error.hpp>
#include <eshop/http.hpp>

namespace eshop::http {

inline constexpr std::int64_t kDefaultPageSize = 20;
inline constexpr std::int64_t kMaxPageSize = 100;

struct Paging {
  std::int64_t page = 1;
  std::int64_t page_size = kDefaultPageSize;
  // Null when the page lies past any possible result (its offset would not fit).
  bool reachable(std::int64_t total_items) const { return page - 1 <= total_items / page_size; }
  std::int64_t offset() const { return (page - 1) * page_size; }  // check reachable() first
};

// Reads `page` and `pageSize`, adding a message per bad parameter to `errors`.
Paging read_paging(const Request& request, FieldErrors& errors);
// 0 for no items.
inline std::int64_t total_pages(std::int64_t total_items, std::int64_t page_size) {
  return (total_items + page_size - 1) / page_size;
}

}  // namespace eshop::http
