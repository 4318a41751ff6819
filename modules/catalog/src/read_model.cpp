#include "read_model.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <eshop/json_writer.hpp>

namespace eshop::catalog {
namespace {

template <class Map>
std::string_view name_of(const Map& map, std::int64_t id) {
  const auto it = map.find(id);
  return it == map.end() ? std::string_view{} : std::string_view(it->second.name);
}

// {"id":1,"name":"..."}
void append_ref(std::string& out, std::int64_t id, std::string_view name) {
  out += '{';
  json::append_member(out, "id", id);
  json::append_member(out, "name", name);
  out += '}';
}

// The list item's members, without the closing brace: the detail document goes on from there.
// Written directly rather than through an nlohmann tree: every reservation rebuilds its product's
// entry (the stock changed), and the tree cost more than the rest of the rebuild.
void append_summary_members(std::string& out, const Product& p, const Snapshot& s) {
  out += '{';
  json::append_member(out, "id", p.id);
  json::append_member(out, "name", p.name);
  json::append_member(out, "description", p.description);
  json::append_member(out, "price", p.price);
  json::append_member(out, "currency", s.currency);
  json::separate(out);
  json::append_key(out, "brand");
  append_ref(out, p.brand_id, name_of(s.brands, p.brand_id));
  json::separate(out);
  json::append_key(out, "category");
  append_ref(out, p.category_id, name_of(s.categories, p.category_id));
  json::append_member(out, "availableStock", p.available_stock);
  json::append_member_or_null(out, "imageUrl", p.image_url);
}

std::shared_ptr<const ProductEntry> make_entry(const Product& p, const Snapshot& s) {
  auto e = std::make_shared<ProductEntry>();
  e->product = p;
  e->name_lower = to_lower(p.name);
  e->text_lower = e->name_lower + '\n' + to_lower(p.description);
  std::string members;
  members.reserve(512);
  append_summary_members(members, p, s);
  e->summary_json = members + '}';
  std::string& detail = members;
  json::separate(detail);
  json::append_key(detail, "supplier");
  const auto supplier = p.supplier_id ? s.suppliers.find(*p.supplier_id) : s.suppliers.end();
  if (supplier != s.suppliers.end()) {
    detail += '{';
    json::append_member(detail, "id", supplier->second.id);
    json::append_member(detail, "name", supplier->second.name);
    json::append_member(detail, "country", supplier->second.country);
    detail += '}';
  } else {
    detail += "null";
  }
  json::separate(detail);
  json::append_key(detail, "attributes");
  detail += '{';
  for (const auto& [name, value] : p.attributes) {  // a std::map: in key order, as nlohmann writes it
    json::separate(detail);
    json::append_string(detail, name);  // a name an admin gave: escaped, unlike append_key's
    detail += ':';
    json::append_string(detail, value);
  }
  detail += "}}";
  e->detail_json = std::move(detail);
  e->detail_etag = make_etag(e->detail_json);
  return e;
}

// The brand and category lists with product counts.
void summarize(Snapshot& s) {
  std::map<std::int64_t, std::int64_t> by_brand, by_category;
  for (const auto& e : s.products) {
    ++by_brand[e->product.brand_id];
    ++by_category[e->product.category_id];
  }
  auto list = [](const auto& map, auto& counts) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    std::vector<const std::remove_cvref_t<decltype(map.begin()->second)>*> sorted;
    for (const auto& [id, item] : map) sorted.push_back(&item);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return to_lower(a->name) < to_lower(b->name); });
    for (auto* item : sorted) out.push_back({{"id", item->id}, {"name", item->name}, {"productCount", counts[item->id]}});
    return out.dump();
  };
  s.brands_json = list(s.brands, by_brand);
  s.categories_json = list(s.categories, by_category);
}

// A new snapshot sharing the previous one's entries; its page cache starts empty.
std::shared_ptr<Snapshot> successor(const Snapshot& prev) {
  auto s = std::make_shared<Snapshot>();
  s->brands = prev.brands;
  s->categories = prev.categories;
  s->suppliers = prev.suppliers;
  s->currency = prev.currency;
  s->products = prev.products;
  return s;
}

}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string make_etag(std::string_view body) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a, 64 bit
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}-{:x}\"", h, body.size());
}

const ProductEntry* Snapshot::find(std::int64_t id) const {
  const auto it = std::lower_bound(products.begin(), products.end(), id,
                                   [](const auto& e, std::int64_t v) { return e->product.id < v; });
  return it != products.end() && (*it)->product.id == id ? it->get() : nullptr;
}

std::shared_ptr<const Snapshot> build_snapshot(std::vector<Product> products, std::map<std::int64_t, Brand> brands,
                                               std::map<std::int64_t, Category> categories,
                                               std::map<std::int64_t, Supplier> suppliers, std::string currency) {
  auto s = std::make_shared<Snapshot>();
  s->brands = std::move(brands);
  s->categories = std::move(categories);
  s->suppliers = std::move(suppliers);
  s->currency = std::move(currency);
  std::sort(products.begin(), products.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& p : products) s->products.push_back(make_entry(p, *s));
  summarize(*s);
  return s;
}

std::shared_ptr<const Snapshot> with_product(const Snapshot& prev, std::int64_t id, const Product* product) {
  auto s = successor(prev);
  const auto it = std::lower_bound(s->products.begin(), s->products.end(), id,
                                   [](const auto& e, std::int64_t v) { return e->product.id < v; });
  const bool present = it != s->products.end() && (*it)->product.id == id;
  if (!product) {
    if (present) s->products.erase(it);
  } else if (present) {
    *it = make_entry(*product, *s);
  } else {
    s->products.insert(it, make_entry(*product, *s));
  }
  summarize(*s);
  return s;
}

std::shared_ptr<const Snapshot> with_products(const Snapshot& prev, const std::vector<Product>& changed) {
  auto s = successor(prev);
  // A reservation changes stock only: when no product moved to another brand or category, the
  // brand and category lists (their product counts) are the previous snapshot's, not rebuilt on
  // every order.
  bool regrouped = false;
  for (const auto& p : changed) {
    const auto it = std::lower_bound(s->products.begin(), s->products.end(), p.id,
                                     [](const auto& e, std::int64_t v) { return e->product.id < v; });
    if (it == s->products.end() || (*it)->product.id != p.id) continue;
    regrouped = regrouped || (*it)->product.brand_id != p.brand_id || (*it)->product.category_id != p.category_id;
    *it = make_entry(p, *s);
  }
  if (regrouped) {
    summarize(*s);
  } else {
    s->brands_json = prev.brands_json;
    s->categories_json = prev.categories_json;
  }
  return s;
}

}  // namespace eshop::catalog
