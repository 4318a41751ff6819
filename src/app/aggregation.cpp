#include "app/aggregation.hpp"

#include <nlohmann/json.hpp>

#include <eshop/problem.hpp>

namespace eshop::app {

namespace {

nlohmann::json parsed(const http::Response& r) {
  return nlohmann::json::parse(r.body_view(), nullptr, false);
}

}  // namespace

void register_aggregation(http::Router& router, SubRequest fetch) {
  auto r = router.scope("gateway");
  using http::Access;

  // Aggregation: the product (with its stock) from catalog and the coupons that apply to it from
  // discount, in one answer. The product is required (its 404 is this route's 404); the coupons are
  // not: when discount cannot answer, the page still gets the product, with "coupons": null and
  // "couponsUnavailable": true, rather than an error.
  r.get("/api/v1/shop/products/{id}", Access::anyone, [fetch](http::Request& q) {
    const auto id = q.id_param("id");
    if (!id) return http::problem(Error::invalid_field("id", "must be a whole number of 1 or more"));
    const auto n = std::to_string(*id);
    auto product = fetch(q, "/api/v1/catalog/products/" + n);
    if (product.status != 200) return product;  // 404, 503: as catalog said it
    auto coupons = fetch(q, "/api/v1/discounts/products/" + n);
    nlohmann::json body{{"product", parsed(product)}};
    const auto list = parsed(coupons);
    if (coupons.status == 200 && list.is_array()) {
      body["coupons"] = list;
    } else {
      body["coupons"] = nullptr;
      body["couponsUnavailable"] = true;
    }
    return http::Response::json(200, body);
  });

  // Backend for frontends: the catalog list for a phone: the same query parameters, and per
  // product only what a small screen shows (id, name, price, image, whether it is in stock).
  r.get("/api/v1/mobile/catalog/products", Access::anyone, [fetch](http::Request& q) {
    const auto query = q.query_string();
    auto list = fetch(q, "/api/v1/catalog/products" + (query.empty() ? std::string() : "?" + std::string(query)));
    if (list.status != 200) return list;  // 422 for a bad query, as catalog said it
    const auto page = parsed(list);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& p : page.value("items", nlohmann::json::array()))
      items.push_back({{"id", p.at("id")},
                       {"name", p.at("name")},
                       {"price", p.at("price")},
                       {"currency", p.at("currency")},
                       {"image", p.at("imageUrl")},
                       {"inStock", p.at("availableStock").get<std::int64_t>() > 0}});
    return http::Response::json(200, nlohmann::json{{"items", items},
                                                    {"page", page.at("page")},
                                                    {"totalPages", page.at("totalPages")}});
  });
}

}  // namespace eshop::app
