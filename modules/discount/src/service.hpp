#pragma once
// discount's use cases: coupon administration, and answering for a coupon's terms.
#include <optional>
#include <string>
#include <vector>

#include <discount/api.hpp>
#include <discount/module.hpp>
#include <eshop/database.hpp>

namespace eshop::discount {

// What a create or partial update may carry; absent means "not sent".
struct CouponFields {
  std::optional<std::string> code;
  std::optional<std::string> description;
  std::optional<std::string> type;
  std::optional<std::int64_t> value;
  std::optional<std::int64_t> min_subtotal;
  std::optional<std::string> valid_from;
  std::optional<std::string> valid_until;
  std::optional<std::int64_t> product_id;
};

// Upper-cased and trimmed; codes compare case-insensitively.
std::string normalize_code(std::string_view code);
bool is_valid_code(std::string_view normalized);
// Applies `fields` to `coupon` (a fresh one when creating) or answers 422 with every problem.
Result<CouponTerms> apply_fields(CouponTerms coupon, const CouponFields& fields, bool creating);

class DiscountService final : public Api {
 public:
  DiscountService(Database& db, const Clock& clock, Settings settings);

  Result<CouponTerms> find_coupon(const std::string& code) const override;
  std::vector<CouponTerms> list() const;
  // The coupons a product page may show: valid now, for that product or for any (store-wide).
  std::vector<CouponTerms> applicable_to(ProductId product) const;
  Result<CouponTerms> create(const CouponFields& fields);
  Result<CouponTerms> update(const std::string& code, const CouponFields& fields);
  Result<void> remove(const std::string& code);

 private:
  void insert(const CouponTerms& c, bool demo = false);
  Database& db_;
  const Clock& clock_;
};

}  // namespace eshop::discount
