#pragma once
// The product list's filter, sort and paging rules, apart from HTTP so they are unit-testable.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <eshop/error.hpp>
#include <eshop/http.hpp>

#include "read_model.hpp"

namespace eshop::catalog {

enum class SortOrder { name, price_ascending, price_descending, newest };

// A filter value is an id (all digits) or an exact, case-insensitive name.
struct RefFilter {
  std::vector<std::int64_t> ids;
  std::vector<std::string> names_lower;
  bool empty() const { return ids.empty() && names_lower.empty(); }
};

struct ListQuery {
  RefFilter brands;
  RefFilter categories;
  std::string text_lower;  // q
  std::optional<std::int64_t> min_price;
  std::optional<std::int64_t> max_price;
  bool in_stock_only = false;
  SortOrder sort = SortOrder::name;
  std::int64_t page = 1;
  std::int64_t page_size = 20;

  // The same key for every spelling of the same query: the page cache's key.
  std::string cache_key() const;
};

// 422 with field errors for an unknown sort, non-numeric prices, or paging out of range.
Result<ListQuery> parse_list_query(const http::Request& request);

struct QueryResult {
  std::vector<const ProductEntry*> items;  // this page only
  std::int64_t total_items = 0;
  std::int64_t total_pages = 0;
};

QueryResult run_query(const Snapshot& snapshot, const ListQuery& query);
// {"items":[...],"page","pageSize","totalItems","totalPages"}
std::string page_json(const QueryResult& result, const ListQuery& query);

}  // namespace eshop::catalog
