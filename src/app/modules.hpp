#pragma once
// Every module this binary knows, in one list. The configuration, the gateway, the operational
// routes and the composition root work from these declarations and name no module themselves.
#include <string>
#include <string_view>
#include <vector>

#include <eshop/module.hpp>

namespace eshop::app {

const std::vector<const ModuleDescriptor*>& known_modules();
// Null for a name no module has.
const ModuleDescriptor* find_module(std::string_view name);
// The names, in the list's order: "identity", "catalog", ...
std::vector<std::string> module_names();

}  // namespace eshop::app
