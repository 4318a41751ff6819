#include "checkout.hpp"

#include <cctype>

#include <eshop/crypto.hpp>

namespace eshop::basket {
namespace {

std::string trimmed(const nlohmann::json& j) {
  std::string s = j.get<std::string>();
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// A required non-empty string at object[key], reported as "<prefix>.<key>".
std::string text(const nlohmann::json* object, const char* prefix, const char* key, std::size_t max,
                 FieldErrors& errors, bool required = true) {
  const std::string field = std::string(prefix) + "." + key;
  const nlohmann::json* v = nullptr;
  if (object && object->is_object()) {
    const auto it = object->find(key);
    if (it != object->end() && !it->is_null()) v = &*it;
  }
  if (!v) {
    if (required) errors[field].push_back("is required");
    return {};
  }
  if (!v->is_string()) {
    errors[field].push_back("must be a string");
    return {};
  }
  auto s = trimmed(*v);
  if (required && s.empty()) errors[field].push_back("must not be empty");
  if (s.size() > max) errors[field].push_back("must be at most " + std::to_string(max) + " characters");
  return s;
}

const nlohmann::json* object_at(const nlohmann::json& body, const char* key, FieldErrors& errors) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    errors[key].push_back("is required");
    return nullptr;
  }
  if (!it->is_object()) {
    errors[key].push_back("must be an object");
    return nullptr;
  }
  return &*it;
}

void read_expiry(const std::string& text, TimePoint now, CardDetails& card, FieldErrors& errors) {
  const bool shaped = text.size() == 5 && text[2] == '/' && std::isdigit(static_cast<unsigned char>(text[0])) &&
                      std::isdigit(static_cast<unsigned char>(text[1])) && std::isdigit(static_cast<unsigned char>(text[3])) &&
                      std::isdigit(static_cast<unsigned char>(text[4]));
  if (!shaped) {
    if (!text.empty()) errors["payment.expiry"].push_back("must be MM/YY");
    return;
  }
  card.expiry_month = std::stoi(text.substr(0, 2));
  card.expiry_year = 2000 + std::stoi(text.substr(3, 2));
  if (card.expiry_month < 1 || card.expiry_month > 12) {
    errors["payment.expiry"].push_back("must be MM/YY");
    return;
  }
  // A card is valid through the last day of its expiry month.
  const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
  const int this_year = static_cast<int>(today.year());
  const int this_month = static_cast<int>(static_cast<unsigned>(today.month()));
  if (card.expiry_year < this_year || (card.expiry_year == this_year && card.expiry_month < this_month))
    errors["payment.expiry"].push_back("is in the past");
}

}  // namespace

Result<CheckoutRequest> parse_checkout(const nlohmann::json& body, TimePoint now) {
  FieldErrors errors;
  CheckoutRequest r;
  const auto* address = object_at(body, "shippingAddress", errors);
  r.address.full_name = text(address, "shippingAddress", "fullName", 200, errors);
  r.address.street = text(address, "shippingAddress", "street", 200, errors);
  r.address.city = text(address, "shippingAddress", "city", 100, errors);
  r.address.postal_code = text(address, "shippingAddress", "postalCode", 20, errors);
  r.address.country = text(address, "shippingAddress", "country", 60, errors);
  if (const auto it = body.find("deliveryNote"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) errors["deliveryNote"].push_back("must be a string");
    else if ((r.delivery_note = trimmed(*it)).size() > 500) errors["deliveryNote"].push_back("must be at most 500 characters");
  }
  const auto* payment = object_at(body, "payment", errors);
  const auto number = text(payment, "payment", "cardNumber", 40, errors);
  r.card.number = card::digits_only(number);
  if (!number.empty() && !card::luhn_valid(r.card.number))
    errors["payment.cardNumber"].push_back("is not a valid card number");
  r.card.holder = text(payment, "payment", "cardHolder", 100, errors);
  read_expiry(text(payment, "payment", "expiry", 5, errors), now, r.card, errors);
  r.card.cvv = text(payment, "payment", "cvv", 4, errors);
  const bool cvv_ok = (r.card.cvv.size() == 3 || r.card.cvv.size() == 4) &&
                      r.card.cvv.find_first_not_of("0123456789") == std::string::npos;
  if (!r.card.cvv.empty() && !cvv_ok) errors["payment.cvv"].push_back("must be 3 or 4 digits");
  if (!errors.empty()) return fail(Error::invalid(std::move(errors), "The checkout request has invalid fields."));

  const auto last4 = r.card.number.substr(r.card.number.size() - 4);
  r.fingerprint = crypto::sha256_hex(nlohmann::json{{"a", {r.address.full_name, r.address.street, r.address.city,
                                                           r.address.postal_code, r.address.country}},
                                                    {"n", r.delivery_note},
                                                    {"h", r.card.holder},
                                                    {"l", last4}}
                                         .dump());
  return r;
}

}  // namespace eshop::basket
