// discount::Api over HTTP, for a process where discount runs elsewhere.
#include <discount/module.hpp>
#include <eshop/http.hpp>
#include <eshop/json_number.hpp>
#include <eshop/remote.hpp>

namespace eshop::discount {
namespace {

std::optional<TimePoint> time_of(const nlohmann::json& j) {
  return j.is_string() ? parse_rfc3339(j.get<std::string>()) : std::nullopt;
}

class RemoteDiscount final : public Api {
 public:
  explicit RemoteDiscount(remote::Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  Result<CouponTerms> find_coupon(const std::string& code) const override {
    std::string target = "/api/v1/discounts/";
    for (unsigned char c : code) {  // percent-encode all but the unreserved characters
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') target.push_back(static_cast<char>(c));
      else target += fmt_hex(c);
    }
    auto body = remote::get_json(endpoint_, "discount", target);
    if (!body) return fail(body.error());
    CouponTerms t;
    t.code = body->at("code").get<std::string>();
    t.description = body->at("description").get<std::string>();
    t.type = body->at("type") == "fixed" ? CouponType::fixed : CouponType::percent;
    t.value = whole_number(body->at("value"));
    t.min_subtotal = Money::cents(whole_number(body->at("minSubtotal")));
    t.valid_from = time_of(body->at("validFrom"));
    t.valid_until = time_of(body->at("validUntil"));
    if (body->at("productId").is_number_integer()) t.product_id = ProductId{whole_number(body->at("productId"))};
    return t;
  }

 private:
  static std::string fmt_hex(unsigned char c) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    return {'%', kHex[c >> 4], kHex[c & 15]};
  }
  remote::Endpoint endpoint_;
};

}  // namespace

std::unique_ptr<Api> make_remote(const std::string& base_url) {
  auto endpoint = remote::parse_base_url(base_url);
  if (!endpoint) throw std::invalid_argument("discount: not an http://host:port URL: " + base_url);
  return std::make_unique<RemoteDiscount>(*endpoint);
}

}  // namespace eshop::discount
