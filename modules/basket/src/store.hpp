#pragma once
// basket's tables. Every function runs inside the caller's transaction.
#include <optional>
#include <string>
#include <vector>

#include <eshop/database.hpp>

#include "pricing.hpp"

namespace eshop::basket::store {

std::vector<Line> lines(Tx& tx, const std::string& user_id);
std::optional<std::string> coupon_code(Tx& tx, const std::string& user_id);
std::int64_t quantity_of(Tx& tx, const std::string& user_id, ProductId product);

void upsert_line(Tx& tx, const std::string& user_id, const Line& line, const std::string& now);
// Adds `quantity` to the user's line of a product the view knows, at most `max` in all; false when
// the view does not know the product (deleted since).
bool add_quantity(Tx& tx, const std::string& user_id, ProductId product, std::int64_t quantity,
                  std::int64_t max, const std::string& now);
void remove_line(Tx& tx, const std::string& user_id, ProductId product);
void set_coupon(Tx& tx, const std::string& user_id, const std::optional<std::string>& code,
                const std::string& now);
void clear(Tx& tx, const std::string& user_id);

// The materialized view's updates from catalog's events: the product's one row.
void update_price(Tx& tx, ProductId product, Money price);
void update_product(Tx& tx, ProductId product, const std::string& name, Money price, std::int64_t stock,
                    const std::string& image_url);
void remove_product(Tx& tx, ProductId product);

}  // namespace eshop::basket::store
