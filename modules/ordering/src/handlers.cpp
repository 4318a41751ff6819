#include "handlers.hpp"

#include <eshop/crypto.hpp>

#include <eshop/paging.hpp>
#include <eshop/problem.hpp>

namespace eshop::ordering {

nlohmann::ordered_json order_json(const Order& o) {
  using J = nlohmann::ordered_json;
  auto items = J::array();
  for (const auto& i : o.items)
    items.push_back({{"productId", i.product_id.value}, {"name", i.name}, {"unitPrice", i.unit_price.in_cents()},
                     {"quantity", i.quantity}, {"lineTotal", i.line_total.in_cents()},
                     {"imageUrl", i.image_url.empty() ? J(nullptr) : J(i.image_url)}});
  auto timeline = J::array();
  for (const auto& t : o.timeline) timeline.push_back({{"at", t.at}, {"event", t.event}});
  J coupon = nullptr;
  if (o.coupon_code) coupon = {{"code", *o.coupon_code}, {"description", o.coupon_description}, {"discount", o.discount.in_cents()}};
  return {{"id", o.id.value},
          {"status", name_of(o.status)},
          {"statusReason", o.status_reason ? J(*o.status_reason) : J(nullptr)},
          {"createdAt", o.created_at},
          {"updatedAt", o.updated_at},
          {"items", items},
          {"itemCount", o.item_count},
          {"subtotal", o.subtotal.in_cents()},
          {"discount", o.discount.in_cents()},
          {"coupon", coupon},
          {"total", o.total.in_cents()},
          {"currency", o.currency},
          {"shippingAddress",
           {{"fullName", o.address.full_name}, {"street", o.address.street}, {"city", o.address.city},
            {"postalCode", o.address.postal_code}, {"country", o.address.country}}},
          {"deliveryNote", o.delivery_note},
          {"payment", {{"cardBrand", o.card_brand}, {"last4", o.last4}}},
          {"shipment", o.tracking_number ? J{{"trackingNumber", *o.tracking_number}} : J(nullptr)},
          {"invoice", o.invoice_number ? J{{"number", *o.invoice_number}} : J(nullptr)},
          {"timeline", timeline}};
}

void register_handlers(http::Router& router, OrderService& orders) {
  auto r = router.scope("ordering");
  using http::Access;
  r.get("/api/v1/orders", Access::user, [&orders](http::Request& req) {
    FieldErrors errors;
    const auto paging = http::read_paging(req, errors);
    if (!errors.empty()) return http::problem(Error::invalid(std::move(errors), "The query parameters are invalid."));
    const auto page = orders.list(req.user->id, paging);
    auto items = nlohmann::ordered_json::array();
    for (const auto& s : page.items)
      items.push_back({{"id", s.id.value}, {"createdAt", s.created_at}, {"status", name_of(s.status)},
                       {"total", s.total.in_cents()}, {"currency", s.currency}, {"itemCount", s.item_count}});
    return http::Response::json(200, nlohmann::ordered_json{{"items", items},
                                                            {"page", paging.page},
                                                            {"pageSize", paging.page_size},
                                                            {"totalItems", page.total},
                                                            {"totalPages", http::total_pages(page.total, paging.page_size)}});
  });
  r.get("/api/v1/orders/{id}", Access::user, [&orders](http::Request& req) {
    const auto order = orders.find(*req.user, OrderId{std::string(req.param("id"))});
    if (!order) return http::problem(Error::not_found("No order has this id."));
    // The polling contract of a page that follows the saga: the ETag changes with every step, and
    // If-None-Match with the last one gets a bodiless 304 until the next.
    const auto body = order_json(*order).dump();
    return http::conditional_json(req, body, "\"" + crypto::sha256_hex(body).substr(0, 32) + "\"");
  });
  r.post("/api/v1/orders/{id}/cancel", Access::user, [&orders](http::Request& req) {
    auto order = orders.cancel(req.user->id, OrderId{std::string(req.param("id"))}, req.request_id);
    return order ? http::Response::json(200, order_json(*order)) : http::problem(order.error());
  });
}

}  // namespace eshop::ordering
