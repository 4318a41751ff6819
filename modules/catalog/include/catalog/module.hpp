#pragma once
// For the composition root only: builds the catalog module.
#include <memory>
#include <string>

#include <catalog/api.hpp>
#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/module.hpp>

namespace eshop::catalog {

struct Settings {
  std::string currency = "USD";
  bool load_demo_data = true;  // on first start, when the catalog is empty
};

struct Deps {
  Database& db;
  const Clock& clock;
  Settings settings;
};

class CatalogModule : public Module {
 public:
  virtual const Api& api() const = 0;
};

std::unique_ptr<CatalogModule> make_module(Deps deps);

}  // namespace eshop::catalog
