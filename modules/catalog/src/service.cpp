#include "service.hpp"

#include <charconv>

#include <eshop/crypto.hpp>

#include <catalog/events.hpp>
#include <eshop/outbox.hpp>

namespace eshop::embedded {
std::string_view demo_catalog();  // generated from data/demo_catalog.json
}

namespace eshop::catalog {

FieldErrors validate(const ProductFields& f, const Snapshot& s, bool creating) {
  FieldErrors e;
  auto need = [&](bool present, const char* field) {
    if (creating && !present) e[field].push_back("is required");
  };
  need(f.name.has_value(), "name");
  need(f.price.has_value(), "price");
  need(f.brand_id.has_value(), "brandId");
  need(f.category_id.has_value(), "categoryId");
  if (f.name && (f.name->empty() || f.name->size() > 200)) e["name"].push_back("must be 1 to 200 characters");
  if (f.description && f.description->size() > 5000) e["description"].push_back("must be at most 5000 characters");
  if (f.price && (*f.price <= 0 || *f.price > kMaxPrice))
    e["price"].push_back("must be a whole number of cents greater than 0 and at most 1000000000");
  if (f.brand_id && !s.brands.contains(*f.brand_id)) e["brandId"].push_back("no brand has this id");
  if (f.category_id && !s.categories.contains(*f.category_id)) e["categoryId"].push_back("no category has this id");
  if (f.supplier_id && !s.suppliers.contains(*f.supplier_id)) e["supplierId"].push_back("no supplier has this id");
  if (f.available_stock && (*f.available_stock < 0 || *f.available_stock > kMaxStock))
    e["availableStock"].push_back("must be a whole number from 0 to 1000000000");
  if (f.image_url && f.image_url->size() > 2048) e["imageUrl"].push_back("must be at most 2048 characters");
  if (f.attributes && f.attributes->size() > 100) e["attributes"].push_back("must have at most 100 entries");
  return e;
}

namespace {

Event product_updated(const Product& p, const std::string& correlation_id, const Clock& clock) {
  const events::ProductUpdated e{ProductId{p.id}, p.name, Money::cents(p.price), p.available_stock, p.image_url};
  return new_event(std::string(e.kType), "catalog", e, correlation_id, clock, "product:" + std::to_string(p.id));
}

void apply(const ProductFields& f, Product& p) {
  if (f.name) p.name = *f.name;
  if (f.description) p.description = *f.description;
  if (f.price) p.price = *f.price;
  if (f.brand_id) p.brand_id = *f.brand_id;
  if (f.category_id) p.category_id = *f.category_id;
  if (f.supplier_id) p.supplier_id = *f.supplier_id;
  if (f.available_stock) p.available_stock = *f.available_stock;
  if (f.image_url) p.image_url = *f.image_url;
  if (f.attributes) p.attributes = *f.attributes;
}

}  // namespace

CatalogService::CatalogService(Database& db, const Clock& clock, Settings settings)
    : db_(db), store_(db), clock_(clock), settings_(std::move(settings)) {
  if (settings_.load_demo_data && store_.is_empty()) store_.load_demo(embedded::demo_catalog(), to_rfc3339(clock_.now()));
  auto data = store_.load_all();
  snapshot_ = build_snapshot(std::move(data.products), std::move(data.brands), std::move(data.categories),
                             std::move(data.suppliers), settings_.currency);
  // Other instances on the same PostgreSQL database change products too: each change they commit
  // is applied here as it is notified (well within the second the read model may lag).
  peers_ = std::make_unique<Listening>(db_, std::string(kProductsChannel),
                                       [this](const std::string& payload) { peer_changed(payload); });
}

void CatalogService::peer_changed(const std::string& payload) {
  std::lock_guard lock(write_mutex_);
  if (payload == "*") {  // notifications may have been missed: everything again
    auto data = store_.load_all();
    publish(build_snapshot(std::move(data.products), std::move(data.brands), std::move(data.categories),
                           std::move(data.suppliers), settings_.currency));
    return;
  }
  std::int64_t id = 0;
  if (std::from_chars(payload.data(), payload.data() + payload.size(), id).ec != std::errc{}) return;
  const auto product = db_.read([&](Tx& tx) { return stock::find(tx, id); });
  publish(with_product(*snapshot(), id, product ? &*product : nullptr));
}

std::shared_ptr<const Snapshot> CatalogService::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

void CatalogService::publish(std::shared_ptr<const Snapshot> next) {
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(next);
  version_.fetch_add(1, std::memory_order_release);
}

CatalogService::ThreadView& CatalogService::thread_view() const {
  thread_local std::vector<ThreadView> views;  // one per service this thread serves (tests run several)
  ThreadView* view = nullptr;
  for (auto& v : views)
    if (v.service == id_) view = &v;
  if (!view) {
    views.push_back(ThreadView{id_, 0, nullptr, {}});
    view = &views.back();
  }
  if (view->version != version_.load(std::memory_order_acquire)) {
    std::lock_guard lock(snapshot_mutex_);
    view->snapshot = snapshot_;
    view->version = version_.load(std::memory_order_relaxed);
    view->pages.clear();
  }
  return *view;
}

Result<Product> CatalogService::create(const ProductFields& fields) {
  std::lock_guard lock(write_mutex_);
  const auto current = snapshot();
  if (auto errors = validate(fields, *current, true); !errors.empty()) return fail(Error::invalid(std::move(errors)));
  Product p;
  apply(fields, p);
  p.created_at = p.updated_at = to_rfc3339(clock_.now());
  p = store_.insert(std::move(p));
  publish(with_product(*current, p.id, &p));
  return p;
}

Result<Product> CatalogService::update(std::int64_t id, const ProductFields& fields,
                                       const std::string& correlation_id) {
  std::lock_guard lock(write_mutex_);
  const auto current = snapshot();
  if (!current->find(id)) return fail(Error::not_found("No product has this id."));
  if (auto errors = validate(fields, *current, false); !errors.empty()) return fail(Error::invalid(std::move(errors)));
  const auto now = to_rfc3339(clock_.now());
  // Changed on the row as committed, not on the read model: reservations commit without this lock,
  // and a stock they took must not be written back.
  auto updated = db_.write([&](Tx& tx) -> std::optional<Product> {
    const auto before = stock::find(tx, id);
    if (!before) return std::nullopt;
    Product p = *before;
    apply(fields, p);
    p.updated_at = now;
    std::vector<Event> events;
    if (p.price != before->price) {
      const events::ProductPriceChanged changed{ProductId{p.id}, Money::cents(before->price), Money::cents(p.price)};
      events.push_back(new_event(std::string(changed.kType), "catalog", changed, correlation_id, clock_,
                                 "product:" + std::to_string(p.id)));
    }
    events.push_back(product_updated(p, correlation_id, clock_));
    store_.update(tx, p, events);
    return p;
  });
  if (!updated) return fail(Error::not_found("No product has this id."));
  publish_committed({id});
  return *updated;
}

Result<void> CatalogService::remove(std::int64_t id, const std::string& correlation_id) {
  std::lock_guard lock(write_mutex_);
  const auto current = snapshot();
  const events::ProductDeleted deleted{ProductId{id}};
  const std::vector<Event> events = {
      new_event(std::string(deleted.kType), "catalog", deleted, correlation_id, clock_, "product:" + std::to_string(id))};
  if (!current->find(id) || !store_.remove(id, events)) return fail(Error::not_found("No product has this id."));
  publish(with_product(*current, id, nullptr));
  return {};
}

Result<ProductView> CatalogService::find_product(ProductId id) const {
  auto current = snapshot();
  const auto* e = current->find(id.value);
  if (!e && db_.engine() == Engine::postgresql && id.value > 0) {
    // Another instance may have created it a moment ago, its notification still on the way: a
    // module that asks (basket adding it) reads the database once rather than answer 404.
    const_cast<CatalogService*>(this)->peer_changed(std::to_string(id.value));
    current = snapshot();
    e = current->find(id.value);
  }
  if (!e) return fail(Error::not_found("No product has this id."));
  return ProductView{id, e->product.name, Money::cents(e->product.price), e->product.available_stock,
                     e->product.image_url};
}

// Reservations decide on the database's stock inside their own transaction, not on the read
// model, so they need no lock across the commit and share commits with each other (group
// commit); the read model is then refreshed from what is committed.
std::vector<std::int64_t> CatalogService::reserve_stock(Tx& tx, const events::StockReservationRequested& request,
                                                        const std::string& correlation_id) {
  const auto now = to_rfc3339(clock_.now());
  std::map<std::int64_t, std::int64_t> wanted;  // one line per product
  for (const auto& l : request.lines) wanted[l.product_id.value] += l.quantity;
  std::vector<ProductId> short_products;
  std::vector<Product> products;
  for (const auto& [id, quantity] : wanted) {
    auto p = stock::find(tx, id);
    if (!p || quantity <= 0 || p->available_stock < quantity) short_products.push_back(ProductId{id});
    else products.push_back(std::move(*p));
  }
  if (!short_products.empty() || wanted.empty()) {  // all or nothing: nothing is decremented
    const events::StockReservationRejected rejected{request.reservation_id, short_products};
    outbox::enqueue(tx, new_event(std::string(rejected.kType), "catalog", rejected, correlation_id, clock_,
                                   request.reservation_id));
    return {};
  }
  std::vector<std::int64_t> changed;
  for (auto& p : products) {
    const auto quantity = wanted.at(p.id);
    // The conditional update is the guarantee: stock never goes below zero.
    if (!stock::take(tx, p.id, quantity, now)) throw std::runtime_error("stock changed during a reservation");
    stock::record_reservation(tx, request.reservation_id, p.id, quantity, now);
    p.available_stock -= quantity;
    p.updated_at = now;
    outbox::enqueue(tx, product_updated(p, correlation_id, clock_));
    changed.push_back(p.id);
  }
  const events::StockReserved reserved{request.reservation_id};
  outbox::enqueue(tx, new_event(std::string(reserved.kType), "catalog", reserved, correlation_id, clock_,
                                 request.reservation_id));
  return changed;
}

std::vector<std::int64_t> CatalogService::release_stock(Tx& tx, const events::StockReleaseRequested& request,
                                                        const std::string& correlation_id) {
  const auto now = to_rfc3339(clock_.now());
  std::vector<std::int64_t> changed;
  const auto lines = stock::release(tx, request.reservation_id);
  for (const auto& [id, quantity] : lines) {
    stock::give_back(tx, id, quantity, now);
    if (auto p = stock::find(tx, id)) {  // a deleted product stays deleted
      outbox::enqueue(tx, product_updated(*p, correlation_id, clock_));
      changed.push_back(id);
    }
  }
  if (lines.empty()) return changed;
  const events::StockReleased released{request.reservation_id};
  outbox::enqueue(tx, new_event(std::string(released.kType), "catalog", released, correlation_id, clock_,
                                 request.reservation_id));
  return changed;
}

// Publishes the committed state of `ids`: read after the commit and under the writers' lock, so
// whichever of two concurrent reservations publishes last, the read model shows the later stock.
void CatalogService::refresh(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  std::lock_guard lock(write_mutex_);
  publish_committed(ids);
}

void CatalogService::publish_committed(const std::vector<std::int64_t>& ids) {
  auto fresh = db_.read([&](Tx& tx) {
    std::vector<Product> out;
    for (auto id : ids)
      if (auto p = stock::find(tx, id)) out.push_back(std::move(*p));
    return out;
  });
  publish(with_products(*snapshot(), fresh));
}

}  // namespace eshop::catalog

namespace eshop::catalog {

namespace {

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(value(hex[2 * i]) << 4 | value(hex[2 * i + 1]));
  return out;
}

}  // namespace

Result<Product> CatalogService::set_image(std::int64_t id, const std::string& content_type,
                                          const std::string& extension, std::string_view bytes,
                                          const std::string& correlation_id) {
  {
    const auto current = snapshot();
    if (!current->find(id)) return fail(Error::not_found("No product has this id."));
  }
  const auto file = "p" + std::to_string(id) + "-" + crypto::sha256_hex(bytes).substr(0, 12) + "." + extension;
  const auto now = to_rfc3339(clock_.now());
  const auto hex = to_hex(bytes);
  db_.write([&](Tx& tx) {
    tx.statement("DELETE FROM product_images WHERE product_id = ?1 AND file <> ?2").bind(1, id).bind(2, file).run();
    tx.statement("INSERT INTO product_images(file, product_id, content_type, data_hex, created_at) "
                  "VALUES(?1, ?2, ?3, ?4, ?5)")
        .bind(1, file)
        .bind(2, id)
        .bind(3, content_type)
        .bind(4, hex)
        .bind(5, now)
        .run();
  });
  ProductFields fields;
  fields.image_url = "/api/v1/catalog/images/" + file;
  return update(id, fields, correlation_id);
}

std::optional<CatalogService::StoredImage> CatalogService::image(std::string_view file) const {
  return db_.read([&](Tx& tx) -> std::optional<StoredImage> {
    auto& q = tx.statement("SELECT content_type, data_hex FROM product_images WHERE file = ?1");
    q.bind(1, file);
    if (!q.next()) return std::nullopt;
    return StoredImage{q.text(0), from_hex(q.text(1))};
  });
}

}  // namespace eshop::catalog
