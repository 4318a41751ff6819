#pragma once
// basket's use cases. The user always comes from the token, never from a body.
#include <string>

#include <basket/module.hpp>

#include "pricing.hpp"

namespace eshop::basket {

class BasketService final {
 public:
  BasketService(Database& db, const Clock& clock, const catalog::Api& catalog, const discount::Api& discount)
      : db_(db), clock_(clock), catalog_(catalog), discount_(discount) {}

  PricedBasket get(const UserId& user);
  // Adds `quantity` to the product's line: 404 unknown product, 409 beyond the stock.
  Result<PricedBasket> add(const UserId& user, ProductId product, std::int64_t quantity);
  // Sets the line's quantity; 0 removes it.
  Result<PricedBasket> set(const UserId& user, ProductId product, std::int64_t quantity);
  PricedBasket remove(const UserId& user, ProductId product);
  // 422 when the code is unknown or the coupon does not apply to this basket now.
  Result<PricedBasket> apply_coupon(const UserId& user, const std::string& code);
  PricedBasket remove_coupon(const UserId& user);
  void clear(const UserId& user);

 private:
  Result<PricedBasket> put_line(const UserId& user, ProductId product, std::int64_t quantity, bool add);
  PricedBasket priced(std::vector<Line> lines, const std::optional<std::string>& code) const;

  Database& db_;
  const Clock& clock_;
  const catalog::Api& catalog_;
  const discount::Api& discount_;
};

}  // namespace eshop::basket
