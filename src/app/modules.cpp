#include "app/modules.hpp"

#include <basket/module.hpp>
#include <catalog/module.hpp>
#include <discount/module.hpp>
#include <identity/module.hpp>
#include <ordering/module.hpp>

namespace eshop::app {

const std::vector<const ModuleDescriptor*>& known_modules() {
  static const std::vector<const ModuleDescriptor*> all = {&identity::descriptor(), &catalog::descriptor(),
                                                           &discount::descriptor(), &basket::descriptor(),
                                                           &ordering::descriptor()};
  return all;
}

const ModuleDescriptor* find_module(std::string_view name) {
  for (const auto* d : known_modules())
    if (d->name == name) return d;
  return nullptr;
}

std::vector<std::string> module_names() {
  std::vector<std::string> names;
  for (const auto* d : known_modules()) names.emplace_back(d->name);
  return names;
}

}  // namespace eshop::app
