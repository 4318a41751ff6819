#include "service.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace eshop::embedded {
std::string_view demo_coupons();  // generated from data/demo_coupons.json
}

namespace eshop::discount {
namespace {

constexpr std::int64_t kMaxFixed = 1'000'000'000;

CouponTerms read_row(const Statement& q) {
  CouponTerms c;
  c.code = q.text(0);
  c.description = q.text(1);
  c.type = q.text(2) == "fixed" ? CouponType::fixed : CouponType::percent;
  c.value = q.int64(3);
  c.min_subtotal = Money::cents(q.int64(4));
  if (!q.is_null(5)) c.valid_from = parse_rfc3339(q.text(5));
  if (!q.is_null(6)) c.valid_until = parse_rfc3339(q.text(6));
  if (!q.is_null(7)) c.product_id = ProductId{q.int64(7)};
  return c;
}

// Binds a coupon's columns ?2 to ?8 for INSERT and UPDATE.
void bind_columns(Statement& st, const CouponTerms& c) {
  st.bind(2, c.description)
      .bind(3, c.type == CouponType::fixed ? "fixed" : "percent")
      .bind(4, c.value)
      .bind(5, c.min_subtotal.in_cents())
      .bind(6, c.valid_from ? std::optional<std::string>(to_rfc3339(*c.valid_from)) : std::nullopt)
      .bind(7, c.valid_until ? std::optional<std::string>(to_rfc3339(*c.valid_until)) : std::nullopt)
      .bind(8, c.product_id ? std::optional<std::int64_t>(c.product_id->value) : std::nullopt);
}

const char* kSelect =
    "SELECT code, description, type, value, min_subtotal, valid_from, valid_until, product_id FROM coupons";

}  // namespace

std::string normalize_code(std::string_view code) {
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.remove_prefix(1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.remove_suffix(1);
  std::string out(code);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

bool is_valid_code(std::string_view code) {
  return !code.empty() && code.size() <= 32 && std::all_of(code.begin(), code.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

Result<CouponTerms> apply_fields(CouponTerms c, const CouponFields& f, bool creating) {
  FieldErrors e;
  if (creating) {
    c.code = normalize_code(f.code.value_or(""));
    if (!f.code) e["code"].push_back("is required");
    else if (!is_valid_code(c.code)) e["code"].push_back("must be 1 to 32 letters, digits, '-' or '_'");
    if (!f.type) e["type"].push_back("is required");
    if (!f.value) e["value"].push_back("is required");
  }
  if (f.description) {
    if (f.description->size() > 200) e["description"].push_back("must be at most 200 characters");
    c.description = *f.description;
  }
  if (f.type) {
    if (*f.type == "percent") c.type = CouponType::percent;
    else if (*f.type == "fixed") c.type = CouponType::fixed;
    else e["type"].push_back("must be percent or fixed");
  }
  if (f.value) c.value = *f.value;
  if ((f.value || f.type) && e.find("type") == e.end()) {
    if (c.type == CouponType::percent && (c.value < 1 || c.value > 100))
      e["value"].push_back("must be a whole percent from 1 to 100");
    if (c.type == CouponType::fixed && (c.value < 1 || c.value > kMaxFixed))
      e["value"].push_back("must be a whole number of cents from 1 to 1000000000");
  }
  if (f.min_subtotal) {
    if (*f.min_subtotal < 0 || *f.min_subtotal > kMaxFixed) e["minSubtotal"].push_back("must be 0 to 1000000000 cents");
    else c.min_subtotal = Money::cents(*f.min_subtotal);
  }
  auto read_time = [&](const std::optional<std::string>& text, const char* field, std::optional<TimePoint>& out) {
    if (!text) return;
    if (auto t = parse_rfc3339(*text)) out = *t;
    else e[field].push_back("must be an RFC 3339 time such as 2026-11-24T10:00:00Z, in the years 1900 to 2200");
  };
  read_time(f.valid_from, "validFrom", c.valid_from);
  read_time(f.valid_until, "validUntil", c.valid_until);
  if (c.valid_from && c.valid_until && *c.valid_from >= *c.valid_until)
    e["validUntil"].push_back("must be after validFrom");
  if (f.product_id) {
    if (*f.product_id < 1) e["productId"].push_back("must be a product id, 1 or more");
    else c.product_id = ProductId{*f.product_id};
  }
  if (!e.empty()) return fail(Error::invalid(std::move(e)));
  return c;
}

DiscountService::DiscountService(Database& db, const Clock& clock, Settings settings) : db_(db), clock_(clock) {
  const bool empty = db_.read([](Tx& tx) {
    auto& q = tx.statement("SELECT COUNT(*) FROM coupons");
    return q.next() && q.int64(0) == 0;
  });
  if (!settings.load_demo_data || !empty) return;
  for (const auto& j : nlohmann::json::parse(embedded::demo_coupons())) {
    CouponFields f;
    f.code = j.at("code").get<std::string>();
    f.description = j.value("description", "");
    f.type = j.at("type").get<std::string>();
    f.value = j.at("value").get<std::int64_t>();
    if (j.contains("minSubtotal")) f.min_subtotal = j.at("minSubtotal").get<std::int64_t>();
    if (j.contains("validFrom")) f.valid_from = j.at("validFrom").get<std::string>();
    if (j.contains("validUntil")) f.valid_until = j.at("validUntil").get<std::string>();
    if (j.contains("productId")) f.product_id = j.at("productId").get<std::int64_t>();
    insert(apply_fields({}, f, true).value(), true);
  }
}

void DiscountService::insert(const CouponTerms& c, bool demo) {
  const std::string now = to_rfc3339(clock_.now());
  db_.write([&](Tx& tx) {
    // The demo's coupons: instances starting together on one PostgreSQL database add each once.
    auto& st = tx.statement(demo ? "INSERT INTO coupons(code, description, type, value, min_subtotal, valid_from, "
                                   "valid_until, product_id, created_at, updated_at) "
                                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) ON CONFLICT DO NOTHING"
                                 : "INSERT INTO coupons(code, description, type, value, min_subtotal, valid_from, "
                                   "valid_until, product_id, created_at, updated_at) "
                                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
    st.bind(1, c.code).bind(9, now);
    bind_columns(st, c);
    st.run();
  });
}

Result<CouponTerms> DiscountService::find_coupon(const std::string& raw_code) const {
  const auto code = normalize_code(raw_code);
  auto found = db_.read([&](Tx& tx) -> std::optional<CouponTerms> {
    static const std::string sql = std::string(kSelect) + " WHERE code = ?1";
    auto& q = tx.statement(sql);
    q.bind(1, code);
    if (!q.next()) return std::nullopt;
    return read_row(q);
  });
  if (!found) return fail(Error::not_found("No coupon has this code."));
  return *found;
}

std::vector<CouponTerms> DiscountService::applicable_to(ProductId product) const {
  const auto now = clock_.now();
  std::vector<CouponTerms> out;
  for (auto& c : list()) {
    const bool in_time = (!c.valid_from || *c.valid_from <= now) && (!c.valid_until || now <= *c.valid_until);
    if (in_time && (!c.product_id || *c.product_id == product)) out.push_back(std::move(c));
  }
  return out;
}

std::vector<CouponTerms> DiscountService::list() const {
  return db_.read([](Tx& tx) {
    static const std::string sql = std::string(kSelect) + " ORDER BY code";
    std::vector<CouponTerms> out;
    auto& q = tx.statement(sql);
    while (q.next()) out.push_back(read_row(q));
    return out;
  });
}

Result<CouponTerms> DiscountService::create(const CouponFields& fields) {
  auto coupon = apply_fields({}, fields, true);
  if (!coupon) return coupon;
  if (find_coupon(coupon->code)) return fail(Error::conflict("A coupon with this code already exists."));
  insert(*coupon);
  return coupon;
}

Result<CouponTerms> DiscountService::update(const std::string& code, const CouponFields& fields) {
  auto current = find_coupon(code);
  if (!current) return current;
  auto coupon = apply_fields(*current, fields, false);
  if (!coupon) return coupon;
  const std::string now = to_rfc3339(clock_.now());
  db_.write([&](Tx& tx) {
    auto& st = tx.statement("UPDATE coupons SET description = ?2, type = ?3, value = ?4, min_subtotal = ?5, "
                            "valid_from = ?6, valid_until = ?7, product_id = ?8, updated_at = ?9 WHERE code = ?1");
    st.bind(1, coupon->code).bind(9, now);
    bind_columns(st, *coupon);
    st.run();
  });
  return coupon;
}

Result<void> DiscountService::remove(const std::string& raw_code) {
  const auto code = normalize_code(raw_code);
  const bool removed = db_.write([&](Tx& tx) {
    return tx.statement("DELETE FROM coupons WHERE code = ?1").bind(1, code).run() > 0;
  });
  if (!removed) return fail(Error::not_found("No coupon has this code."));
  return {};
}

}  // namespace eshop::discount
