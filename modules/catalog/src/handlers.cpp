#include "handlers.hpp"

#include "images.hpp"

#include <charconv>

#include <eshop/json_body.hpp>
#include <eshop/problem.hpp>

#include "query.hpp"

namespace eshop::catalog {
namespace {

http::Response no_such_product() { return http::problem(Error::not_found("No product has this id.")); }

// Reads the fields a client may set; ids, timestamps and anything unknown are ignored.
Result<ProductFields> read_fields(const http::Request& req) {
  auto body = http::json_object_body(req);
  if (!body) return fail(body.error());
  http::FieldReader in(*body);
  ProductFields f;
  f.name = in.string("name", false);
  if (f.name) {
    const auto first = f.name->find_first_not_of(" \t\r\n");
    f.name = first == std::string::npos ? "" : f.name->substr(first, f.name->find_last_not_of(" \t\r\n") - first + 1);
  }
  f.description = in.string("description", false);
  f.price = in.integer("price", false);
  f.brand_id = in.integer("brandId", false);
  f.category_id = in.integer("categoryId", false);
  f.supplier_id = in.integer("supplierId", false);
  f.available_stock = in.integer("availableStock", false);
  f.image_url = in.string("imageUrl", false);
  if (const auto* attrs = in.object("attributes", false)) {
    std::map<std::string, std::string> a;
    for (const auto& [k, v] : attrs->items()) {
      if (v.is_string()) a[k] = v.get<std::string>();
      else in.error("attributes", "values must be strings (\"" + k + "\" is not)");
    }
    f.attributes = std::move(a);
  }
  if (!in.ok()) return fail(in.to_error());
  return f;
}

class Handlers final {
 public:
  explicit Handlers(CatalogService& service) : service_(service) {}

  http::Response list(http::Request& req) const {
    auto& view = service_.thread_view();
    // Fastest path: this thread served this exact query string from this snapshot before.
    const auto query_string = req.query_string();
    // The page is sent borrowed (an aliasing pointer into the cached page: no copy, no allocation).
    if (const auto it = view.pages.find(query_string); it != view.pages.end())
      return http::conditional_json(req, std::shared_ptr<const std::string>(it->second, &it->second->body),
                                    it->second->etag);
    const auto& snapshot = view.snapshot;
    // Fast path: another thread did (raw keys start with '?').
    std::string raw_key = "?";
    raw_key += query_string;
    auto page = snapshot->cached(raw_key);
    if (!page) {
      auto query = parse_list_query(req);
      if (!query) return http::problem(query.error());
      page = snapshot->page(query->cache_key(), [&] {
        auto body = page_json(run_query(*snapshot, *query), *query);
        auto etag = make_etag(body);
        return CachedPage{std::move(body), std::move(etag)};
      });
      snapshot->remember(raw_key, page);
    }
    if (view.pages.size() >= 1024) view.pages.clear();
    view.pages.emplace(std::string(query_string), page);
    return http::conditional_json(req, std::shared_ptr<const std::string>(page, &page->body), page->etag);
  }

  http::Response detail(http::Request& req) const {
    const auto id = req.id_param("id");
    const auto& snapshot = service_.thread_view().snapshot;
    const auto* entry = id ? snapshot->find(*id) : nullptr;
    if (!entry) return no_such_product();
    // Borrowed from the snapshot, which the response keeps alive until it is written.
    return http::conditional_json(req, std::shared_ptr<const std::string>(snapshot, &entry->detail_json),
                                  entry->detail_etag);
  }

  http::Response brands(http::Request& req) const {
    const auto snapshot = service_.snapshot();
    return http::conditional_json(req, snapshot->brands_json, make_etag(snapshot->brands_json));
  }

  http::Response categories(http::Request& req) const {
    const auto snapshot = service_.snapshot();
    return http::conditional_json(req, snapshot->categories_json, make_etag(snapshot->categories_json));
  }

  http::Response create(http::Request& req) const {
    auto fields = read_fields(req);
    if (!fields) return http::problem(fields.error());
    auto product = service_.create(*fields);
    if (!product) return http::problem(product.error());
    auto res = written(product->id, 201);
    res.headers.add("Location", "/api/v1/catalog/products/" + std::to_string(product->id));
    return res;
  }

  http::Response update(http::Request& req) const {
    const auto id = req.id_param("id");
    if (!id) return no_such_product();
    auto fields = read_fields(req);
    if (!fields) return http::problem(fields.error());
    auto product = service_.update(*id, *fields, req.request_id);
    if (!product) return http::problem(product.error());
    return written(product->id, 200);
  }

  http::Response remove(http::Request& req) const {
    const auto id = req.id_param("id");
    if (!id) return no_such_product();
    if (auto done = service_.remove(*id, req.request_id); !done) return http::problem(done.error());
    return http::Response::no_content();
  }

 private:
  http::Response written(std::int64_t id, int status) const {
    const auto snapshot = service_.snapshot();
    const auto* entry = snapshot->find(id);
    return http::Response::json(status, entry ? entry->detail_json : std::string("{}"));
  }

  CatalogService& service_;
};

}  // namespace

void register_handlers(http::Router& router, CatalogService& service) {
  auto h = std::make_shared<Handlers>(service);
  auto r = router.scope("catalog");
  using http::Access;
  r.get("/api/v1/catalog/products", Access::anyone, [h](http::Request& q) { return h->list(q); });
  r.get("/api/v1/catalog/products/{id}", Access::anyone, [h](http::Request& q) { return h->detail(q); });
  r.get("/api/v1/catalog/brands", Access::anyone, [h](http::Request& q) { return h->brands(q); });
  r.get("/api/v1/catalog/categories", Access::anyone, [h](http::Request& q) { return h->categories(q); });
  // The products' pictures: an admin's upload, or one drawn from the name (see images.hpp). A
  // picture never changes under its name: cached for a year, revalidated by ETag.
  CatalogService* service_ptr = &service;
  r.get("/api/v1/catalog/images/{file}", Access::anyone, [service_ptr](http::Request& q) {
    auto svg = product_svg(q.param("file"));
    std::string type = "image/svg+xml";
    if (!svg) {
      auto uploaded = service_ptr->image(q.param("file"));
      if (!uploaded) return http::problem(Error::not_found("No image has this name."));
      svg = std::move(uploaded->bytes);
      type = uploaded->content_type;
    }
    const auto etag = make_etag(*svg);
    http::Response res;
    res.headers.add("ETag", etag);
    res.headers.add("Cache-Control", "public, max-age=31536000, immutable");
    if (q.header("If-None-Match").find(etag) != std::string_view::npos) {
      res.status = 304;
      return res;
    }
    res.headers.add("Content-Type", type);
    res.headers.add("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    res.body = *svg;
    return res;
  });
  // An admin's picture for a product: PNG, JPEG, WebP or GIF, at most kMaxImageBytes, its bytes
  // what its Content-Type says.
  r.put("/api/v1/catalog/products/{id}/image", Access::admin, [service_ptr](http::Request& q) {
    const auto id = q.id_param("id");
    if (!id) return http::problem(Error::not_found("No product has this id."));
    const auto kind = image_kind(q.header("Content-Type"));
    if (!kind)
      return http::problem(Error::make(ErrorCode::unsupported_media_type,
                                       "A product picture is image/png, image/jpeg, image/webp or image/gif."));
    if (q.body.empty()) return http::problem(Error::invalid_field("body", "is empty: send the picture's bytes"));
    if (q.body.size() > kMaxImageBytes)
      return http::problem(Error::make(ErrorCode::payload_too_large, "A product picture is at most " +
                                                                          std::to_string(kMaxImageBytes / 1024) + " KiB."));
    if (!kind->matches(q.body))
      return http::problem(Error::invalid_field("body", "is not a " + kind->name + " picture (its first bytes say otherwise)"));
    auto product = service_ptr->set_image(*id, kind->content_type, kind->extension, q.body, q.request_id);
    if (!product) return http::problem(product.error());
    const auto snapshot = service_ptr->snapshot();
    const auto* entry = snapshot->find(*id);
    return http::Response::json(200, entry ? entry->detail_json : std::string("{}"));
  });
  r.post("/api/v1/catalog/products", Access::admin, [h](http::Request& q) { return h->create(q); });
  r.put("/api/v1/catalog/products/{id}", Access::admin, [h](http::Request& q) { return h->update(q); });
  r.del("/api/v1/catalog/products/{id}", Access::admin, [h](http::Request& q) { return h->remove(q); });
}

}  // namespace eshop::catalog
