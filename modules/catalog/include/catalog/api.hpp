#pragma once
// catalog's public face: the product facts other modules may ask for.
#include <cstdint>
#include <string>

#include <eshop/error.hpp>
#include <eshop/ids.hpp>
#include <eshop/money.hpp>

namespace eshop::catalog {

struct ProductView {
  ProductId id;
  std::string name;
  Money price;
  std::int64_t available_stock = 0;
  std::string image_url{};  // empty: none
};

class Api {
 public:
  virtual ~Api() = default;
  // The product's current name, price and stock; not_found if there is none.
  virtual Result<ProductView> find_product(ProductId id) const = 0;
  // True when find_product() never waits (catalog in this process, on SQLite: its read model).
  virtual bool answers_from_memory() const { return false; }
};

}  // namespace eshop::catalog
