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

std::optional<TimePoint> from_text(const std::string& text, soci::indicator ind) {
  if (ind != soci::i_ok) return std::nullopt;
  return parse_rfc3339(text);
}

CouponTerms read_row(const std::string& code, const std::string& description, const std::string& type,
                     long long value, long long min_subtotal, const std::string& from, soci::indicator from_ind,
                     const std::string& until, soci::indicator until_ind, long long product, soci::indicator product_ind) {
  CouponTerms c;
  c.code = code;
  c.description = description;
  c.type = type == "fixed" ? CouponType::fixed : CouponType::percent;
  c.value = value;
  c.min_subtotal = Money::cents(min_subtotal);
  c.valid_from = from_text(from, from_ind);
  c.valid_until = from_text(until, until_ind);
  if (product_ind == soci::i_ok) c.product_id = ProductId{product};
  return c;
}

// Binds a coupon's columns for INSERT and UPDATE.
struct Columns {
  std::string type, from, until;
  long long value, min_subtotal, product;
  soci::indicator from_ind, until_ind, product_ind;
  explicit Columns(const CouponTerms& c)
      : type(c.type == CouponType::fixed ? "fixed" : "percent"),
        from(c.valid_from ? to_rfc3339(*c.valid_from) : ""),
        until(c.valid_until ? to_rfc3339(*c.valid_until) : ""),
        value(c.value),
        min_subtotal(c.min_subtotal.in_cents()),
        product(c.product_id ? c.product_id->value : 0),
        from_ind(c.valid_from ? soci::i_ok : soci::i_null),
        until_ind(c.valid_until ? soci::i_ok : soci::i_null),
        product_ind(c.product_id ? soci::i_ok : soci::i_null) {}
};

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
  const bool empty = db_.read([](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM coupons", soci::into(n);
    return n == 0;
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
    insert(apply_fields({}, f, true).value());
  }
}

void DiscountService::insert(const CouponTerms& c) {
  Columns col(c);
  const std::string now = to_rfc3339(clock_.now());
  db_.write([&](soci::session& sql) {
    sql << "INSERT INTO coupons(code, description, type, value, min_subtotal, valid_from, valid_until, product_id, "
           "created_at, updated_at) VALUES(:c, :d, :t, :v, :m, :f, :u, :p, :n, :n2)",
        soci::use(c.code), soci::use(c.description), soci::use(col.type), soci::use(col.value),
        soci::use(col.min_subtotal), soci::use(col.from, col.from_ind), soci::use(col.until, col.until_ind),
        soci::use(col.product, col.product_ind), soci::use(now), soci::use(now);
  });
}

Result<CouponTerms> DiscountService::find_coupon(const std::string& raw_code) const {
  const auto code = normalize_code(raw_code);
  auto found = db_.read([&](soci::session& sql) -> std::optional<CouponTerms> {
    std::string c, d, t, f, u;
    long long v = 0, m = 0, p = 0;
    soci::indicator fi, ui, pi;
    sql << std::string(kSelect) + " WHERE code = :code", soci::into(c), soci::into(d), soci::into(t), soci::into(v),
        soci::into(m), soci::into(f, fi), soci::into(u, ui), soci::into(p, pi), soci::use(code);
    if (!sql.got_data()) return std::nullopt;
    return read_row(c, d, t, v, m, f, fi, u, ui, p, pi);
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
  return db_.read([](soci::session& sql) {
    std::vector<CouponTerms> out;
    std::string c, d, t, f, u;
    long long v = 0, m = 0, p = 0;
    soci::indicator fi, ui, pi;
    soci::statement st = (sql.prepare << std::string(kSelect) + " ORDER BY code", soci::into(c), soci::into(d),
                          soci::into(t), soci::into(v), soci::into(m), soci::into(f, fi), soci::into(u, ui),
                          soci::into(p, pi));
    st.execute();
    while (st.fetch()) out.push_back(read_row(c, d, t, v, m, f, fi, u, ui, p, pi));
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
  Columns col(*coupon);
  const std::string now = to_rfc3339(clock_.now());
  db_.write([&](soci::session& sql) {
    sql << "UPDATE coupons SET description = :d, type = :t, value = :v, min_subtotal = :m, valid_from = :f, "
           "valid_until = :u, product_id = :p, updated_at = :n WHERE code = :c",
        soci::use(coupon->description), soci::use(col.type), soci::use(col.value), soci::use(col.min_subtotal),
        soci::use(col.from, col.from_ind), soci::use(col.until, col.until_ind), soci::use(col.product, col.product_ind),
        soci::use(now), soci::use(coupon->code);
  });
  return coupon;
}

Result<void> DiscountService::remove(const std::string& raw_code) {
  const auto code = normalize_code(raw_code);
  const bool removed = db_.write([&](soci::session& sql) {
    soci::statement st = (sql.prepare << "DELETE FROM coupons WHERE code = :c", soci::use(code));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
  if (!removed) return fail(Error::not_found("No coupon has this code."));
  return {};
}

}  // namespace eshop::discount
