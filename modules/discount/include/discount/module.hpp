#pragma once
// For the composition root only: builds the discount module.
#include <memory>

#include <discount/api.hpp>
#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/module.hpp>

namespace eshop::discount {

struct Settings {
  bool load_demo_data = true;  // on first start, when there are no coupons
};

struct Deps {
  Database& db;
  const Clock& clock;
  Settings settings;
};

class DiscountModule : public Module {
 public:
  virtual const Api& api() const = 0;
};

std::unique_ptr<DiscountModule> make_module(Deps deps);

}  // namespace eshop::discount
