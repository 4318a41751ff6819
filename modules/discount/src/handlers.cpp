#include "handlers.hpp"

#include <eshop/json_body.hpp>
#include <eshop/problem.hpp>

namespace eshop::discount {

nlohmann::ordered_json coupon_json(const CouponTerms& c) {
  auto time = [](const std::optional<TimePoint>& t) {
    return t ? nlohmann::ordered_json(to_rfc3339(*t)) : nlohmann::ordered_json(nullptr);
  };
  return {{"code", c.code},
          {"description", c.description},
          {"type", c.type == CouponType::percent ? "percent" : "fixed"},
          {"value", c.value},
          {"minSubtotal", c.min_subtotal.in_cents()},
          {"validFrom", time(c.valid_from)},
          {"validUntil", time(c.valid_until)},
          {"productId", c.product_id ? nlohmann::ordered_json(c.product_id->value) : nlohmann::ordered_json(nullptr)}};
}

namespace {

Result<CouponFields> read_fields(const http::Request& req) {
  auto body = http::json_object_body(req);
  if (!body) return fail(body.error());
  http::FieldReader in(*body);
  CouponFields f;
  f.code = in.string("code", false);
  f.description = in.string("description", false);
  f.type = in.string("type", false);
  f.value = in.integer("value", false);
  f.min_subtotal = in.integer("minSubtotal", false);
  f.valid_from = in.string("validFrom", false);
  f.valid_until = in.string("validUntil", false);
  f.product_id = in.integer("productId", false);
  if (!in.ok()) return fail(in.to_error());
  return f;
}

}  // namespace

void register_handlers(http::Router& router, DiscountService& service) {
  auto r = router.scope("discount");
  using http::Access;
  DiscountService* s = &service;
  r.get("/api/v1/discounts", Access::admin, [s](http::Request&) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& c : s->list()) list.push_back(coupon_json(c));
    return http::Response::json(200, list);
  });
  r.get("/api/v1/discounts/products/{productId}", Access::anyone, [s](http::Request& req) {
    const auto id = req.id_param("productId");
    if (!id) return http::problem(Error::invalid_field("productId", "must be a whole number of 1 or more"));
    auto list = nlohmann::ordered_json::array();
    for (const auto& c : s->applicable_to(ProductId{*id})) list.push_back(coupon_json(c));
    return http::Response::json(200, list);
  });
  r.get("/api/v1/discounts/{code}", Access::anyone, [s](http::Request& req) {
    auto c = s->find_coupon(std::string(req.param("code")));
    return c ? http::Response::json(200, coupon_json(*c)) : http::problem(c.error());
  });
  r.post("/api/v1/discounts", Access::admin, [s](http::Request& req) {
    auto fields = read_fields(req);
    if (!fields) return http::problem(fields.error());
    auto c = s->create(*fields);
    if (!c) return http::problem(c.error());
    auto res = http::Response::json(201, coupon_json(*c));
    res.headers.add("Location", "/api/v1/discounts/" + c->code);
    return res;
  });
  r.put("/api/v1/discounts/{code}", Access::admin, [s](http::Request& req) {
    auto fields = read_fields(req);
    if (!fields) return http::problem(fields.error());
    auto c = s->update(std::string(req.param("code")), *fields);
    return c ? http::Response::json(200, coupon_json(*c)) : http::problem(c.error());
  });
  r.del("/api/v1/discounts/{code}", Access::admin, [s](http::Request& req) {
    auto done = s->remove(std::string(req.param("code")));
    return done ? http::Response::no_content() : http::problem(done.error());
  });
}

}  // namespace eshop::discount
