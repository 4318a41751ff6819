#include "query.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include <eshop/paging.hpp>

namespace eshop::catalog {
namespace {

std::optional<std::int64_t> whole_number(std::string_view s) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

RefFilter parse_refs(const std::vector<std::string>& values) {
  RefFilter f;
  for (const auto& value : values) {
    std::string_view rest = value;
    while (true) {
      const auto comma = rest.find(',');
      auto part = rest.substr(0, comma);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      if (!part.empty()) {
        if (auto id = whole_number(part); id && *id > 0) f.ids.push_back(*id);
        else f.names_lower.push_back(to_lower(part));
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  std::sort(f.ids.begin(), f.ids.end());
  std::sort(f.names_lower.begin(), f.names_lower.end());
  return f;
}

template <class Map>
std::vector<std::int64_t> resolve(const RefFilter& f, const Map& map) {
  std::vector<std::int64_t> ids = f.ids;
  for (const auto& [id, item] : map)
    if (std::binary_search(f.names_lower.begin(), f.names_lower.end(), to_lower(item.name))) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string key_of(const RefFilter& f) {
  return fmt::format("{}|{}", fmt::join(f.ids, ","), fmt::join(f.names_lower, "\x1f"));
}

void read_price(const http::Request& req, const char* name, std::optional<std::int64_t>& out, FieldErrors& errors) {
  if (const auto text = req.query(name)) {
    out = whole_number(*text);
    if (!out || *out < 0) errors[name].push_back("must be a whole number of cents, 0 or more");
  }
}

}  // namespace

std::string ListQuery::cache_key() const {
  return fmt::format("b={};c={};q={};min={};max={};s={};i={};p={};n={}", key_of(brands), key_of(categories),
                     text_lower, min_price.value_or(-1), max_price.value_or(-1), static_cast<int>(sort),
                     in_stock_only, page, page_size);
}

Result<ListQuery> parse_list_query(const http::Request& req) {
  ListQuery q;
  FieldErrors errors;
  q.brands = parse_refs(req.query_all("brand"));
  q.categories = parse_refs(req.query_all("category"));
  q.text_lower = to_lower(req.query("q").value_or(""));
  read_price(req, "minPrice", q.min_price, errors);
  read_price(req, "maxPrice", q.max_price, errors);
  if (q.min_price && q.max_price && *q.min_price > *q.max_price)
    errors["minPrice"].push_back("must not be greater than maxPrice");
  if (const auto in_stock = req.query("inStock")) {
    if (*in_stock == "true") q.in_stock_only = true;
    else if (*in_stock != "false") errors["inStock"].push_back("must be true or false");
  }
  if (const auto sort = req.query("sort")) {
    if (*sort == "name") q.sort = SortOrder::name;
    else if (*sort == "price") q.sort = SortOrder::price_ascending;
    else if (*sort == "-price") q.sort = SortOrder::price_descending;
    else if (*sort == "newest") q.sort = SortOrder::newest;
    else errors["sort"].push_back("must be one of name, price, -price, newest");
  }
  const auto paging = http::read_paging(req, errors);
  q.page = paging.page;
  q.page_size = paging.page_size;
  if (!errors.empty()) return fail(Error::invalid(std::move(errors), "The query parameters are invalid."));
  return q;
}

QueryResult run_query(const Snapshot& s, const ListQuery& q) {
  const auto brand_ids = resolve(q.brands, s.brands);
  const auto category_ids = resolve(q.categories, s.categories);
  std::vector<const ProductEntry*> matches;
  matches.reserve(s.products.size());
  for (const auto& entry : s.products) {
    const auto& p = entry->product;
    if (!q.brands.empty() && !std::binary_search(brand_ids.begin(), brand_ids.end(), p.brand_id)) continue;
    if (!q.categories.empty() && !std::binary_search(category_ids.begin(), category_ids.end(), p.category_id)) continue;
    if (q.min_price && p.price < *q.min_price) continue;
    if (q.max_price && p.price > *q.max_price) continue;
    if (q.in_stock_only && p.available_stock <= 0) continue;
    if (!q.text_lower.empty() && entry->text_lower.find(q.text_lower) == std::string::npos) continue;
    matches.push_back(entry.get());
  }
  auto by = [&](const ProductEntry* a, const ProductEntry* b) {
    const auto &pa = a->product, &pb = b->product;
    switch (q.sort) {
      case SortOrder::price_ascending:
        if (pa.price != pb.price) return pa.price < pb.price;
        break;
      case SortOrder::price_descending:
        if (pa.price != pb.price) return pa.price > pb.price;
        break;
      case SortOrder::newest:
        if (pa.created_at != pb.created_at) return pa.created_at > pb.created_at;
        return pa.id > pb.id;
      case SortOrder::name: break;
    }
    if (a->name_lower != b->name_lower) return a->name_lower < b->name_lower;
    return pa.id < pb.id;
  };
  std::sort(matches.begin(), matches.end(), by);

  QueryResult r;
  r.total_items = static_cast<std::int64_t>(matches.size());
  r.total_pages = http::total_pages(r.total_items, q.page_size);
  const http::Paging paging{q.page, q.page_size};
  if (paging.reachable(r.total_items)) {  // checked first: (page - 1) * pageSize may not fit
    const auto first = paging.offset();
    const auto last = std::min(first + q.page_size, r.total_items);
    if (first < last) r.items.assign(matches.begin() + first, matches.begin() + last);
  }
  return r;
}

std::string page_json(const QueryResult& r, const ListQuery& q) {
  std::string out = "{\"items\":[";
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    if (i) out += ',';
    out += r.items[i]->summary_json;
  }
  out += fmt::format("],\"page\":{},\"pageSize\":{},\"totalItems\":{},\"totalPages\":{}}}", q.page, q.page_size,
                     r.total_items, r.total_pages);
  return out;
}

}  // namespace eshop::catalog
