// The router, on the shop's real route patterns: a method line, then a target.
#include <cstddef>
#include <cstdint>
#include <string>

#include <eshop/router.hpp>

namespace {

eshop::http::Router& router() {
  static eshop::http::Router r = [] {
    eshop::http::Router r;
    const char* routes[][2] = {
        {"GET", "/api/v1/catalog/products"},           {"POST", "/api/v1/catalog/products"},
        {"GET", "/api/v1/catalog/products/{id}"},      {"PUT", "/api/v1/catalog/products/{id}"},
        {"DELETE", "/api/v1/catalog/products/{id}"},   {"GET", "/api/v1/catalog/brands"},
        {"GET", "/api/v1/catalog/categories"},         {"POST", "/api/v1/identity/register"},
        {"POST", "/api/v1/identity/login"},            {"POST", "/api/v1/identity/logout"},
        {"GET", "/api/v1/identity/me"},                {"GET", "/api/v1/basket"},
        {"DELETE", "/api/v1/basket"},                  {"POST", "/api/v1/basket/items"},
        {"PUT", "/api/v1/basket/items/{productId}"},   {"DELETE", "/api/v1/basket/items/{productId}"},
        {"PUT", "/api/v1/basket/coupon"},              {"DELETE", "/api/v1/basket/coupon"},
        {"POST", "/api/v1/basket/checkout"},           {"GET", "/api/v1/discounts"},
        {"POST", "/api/v1/discounts"},                 {"GET", "/api/v1/discounts/{code}"},
        {"PUT", "/api/v1/discounts/{code}"},           {"DELETE", "/api/v1/discounts/{code}"},
        {"GET", "/api/v1/orders"},                     {"GET", "/api/v1/orders/{id}"},
        {"POST", "/api/v1/orders/{id}/cancel"},        {"GET", "/health/live"},
        {"GET", "/health/ready"},                      {"GET", "/metrics"},
        {"GET", "/openapi.json"},                      {"GET", "/api/v1/admin/topology"},
    };
    for (const auto& [method, pattern] : routes)
      r.add(method, pattern, "fuzz", eshop::http::Access::anyone,
            [](eshop::http::Request&) { return eshop::http::Response{}; });
    return r;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto space = input.find(' ');
  eshop::http::Request request;
  request.method = input.substr(0, space);
  const auto target = eshop::http::origin_form(space == std::string::npos ? "" : input.substr(space + 1));
  if (!target) return 0;
  request.target = *target;
  const auto match = router().match(request);
  if (match.route) {
    for (const auto& [name, value] : request.path_params) (void)request.param(name);
    (void)request.id_param("id");
    (void)request.id_param("productId");
  }
  return 0;
}
