#pragma once
// The shipping port: books a shipment and answers its tracking number.
#include <string>

namespace eshop {

struct ShippingAddress {
  std::string full_name;
  std::string street;
  std::string city;
  std::string postal_code;
  std::string country;
};

class ShippingProvider {
 public:
  virtual ~ShippingProvider() = default;
  // Books the shipment of `order_id`; the same order id always answers the same tracking
  // number. Throws when the carrier cannot be reached (the caller retries).
  virtual std::string create_shipment(const std::string& order_id, const ShippingAddress& address) = 0;
};

}  // namespace eshop
