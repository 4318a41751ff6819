#include "service.hpp"

#include "store.hpp"

namespace eshop::basket {

PricedBasket BasketService::priced(std::vector<Line> lines, const std::optional<std::string>& code) const {
  std::optional<discount::CouponTerms> terms;
  if (code) {
    // The coupon's current terms, every time: an admin's change shows at once.
    if (auto found = discount_.find_coupon(*code)) terms = std::move(*found);
  }
  return price(std::move(lines), terms, clock_.now());
}

PricedBasket BasketService::get(const UserId& user) {
  auto [lines, code] = db_.read([&](soci::session& sql) {
    return std::make_pair(store::lines(sql, user.value), store::coupon_code(sql, user.value));
  });
  return priced(std::move(lines), code);
}

Result<PricedBasket> BasketService::put_line(const UserId& user, ProductId product, std::int64_t quantity, bool add) {
  const auto facts = catalog_.find_product(product);
  if (!facts) return fail(facts.error());
  const auto now = to_rfc3339(clock_.now());
  std::optional<Error> refused;
  auto [lines, code] = db_.write([&](soci::session& sql) {
    const auto wanted = add ? store::quantity_of(sql, user.value, product) + quantity : quantity;
    if (wanted > facts->available_stock) {
      refused = Error::conflict("Only " + std::to_string(facts->available_stock) + " of this product " +
                                (facts->available_stock == 1 ? "is" : "are") + " available.");
    } else if (wanted > kMaxLineQuantity) {
      refused = Error::invalid_field("quantity", "a line holds at most 10000");
    } else {
      store::upsert_line(sql, user.value, {product, facts->name, facts->price, wanted, facts->available_stock}, now);
    }
    return std::make_pair(store::lines(sql, user.value), store::coupon_code(sql, user.value));
  });
  if (refused) return fail(*refused);
  return priced(std::move(lines), code);
}

Result<PricedBasket> BasketService::add(const UserId& user, ProductId product, std::int64_t quantity) {
  return put_line(user, product, quantity, true);
}

Result<PricedBasket> BasketService::set(const UserId& user, ProductId product, std::int64_t quantity) {
  if (quantity == 0) return remove(user, product);
  return put_line(user, product, quantity, false);
}

PricedBasket BasketService::remove(const UserId& user, ProductId product) {
  auto [lines, code] = db_.write([&](soci::session& sql) {
    store::remove_line(sql, user.value, product);
    return std::make_pair(store::lines(sql, user.value), store::coupon_code(sql, user.value));
  });
  return priced(std::move(lines), code);
}

Result<PricedBasket> BasketService::apply_coupon(const UserId& user, const std::string& code) {
  auto terms = discount_.find_coupon(code);
  if (!terms) {
    if (terms.error().code != ErrorCode::not_found) return fail(terms.error());
    return fail(Error::invalid_field("code", "No coupon has this code."));
  }
  auto lines = db_.read([&](soci::session& sql) { return store::lines(sql, user.value); });
  const bool eligible_line = terms->product_id && has_product(lines, *terms->product_id);
  if (auto why = discount::refusal(*terms, subtotal_of(lines), eligible_line, clock_.now()))
    return fail(Error::invalid_field("code", *why));
  const auto now = to_rfc3339(clock_.now());
  lines = db_.write([&](soci::session& sql) {
    store::set_coupon(sql, user.value, terms->code, now);
    return store::lines(sql, user.value);
  });
  return price(std::move(lines), *terms, clock_.now());
}

PricedBasket BasketService::remove_coupon(const UserId& user) {
  const auto now = to_rfc3339(clock_.now());
  auto lines = db_.write([&](soci::session& sql) {
    store::set_coupon(sql, user.value, std::nullopt, now);
    return store::lines(sql, user.value);
  });
  return price(std::move(lines), std::nullopt, clock_.now());
}

void BasketService::clear(const UserId& user) {
  db_.write([&](soci::session& sql) { store::clear(sql, user.value); });
}

}  // namespace eshop::basket
