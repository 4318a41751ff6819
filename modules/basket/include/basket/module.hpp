#pragma once
// For the composition root only: builds the basket module.
#include <memory>
#include <string>
#include <vector>
#include <string>

#include <catalog/api.hpp>
#include <discount/api.hpp>
#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/module.hpp>
#include <eshop/payment.hpp>

namespace eshop::basket {

struct Settings {
  std::string currency = "USD";
};

struct Deps {
  Database& db;
  const Clock& clock;
  const catalog::Api& catalog;    // product facts when a line is added (local or remote)
  const discount::Api& discount;  // a coupon's current terms whenever the basket is priced
  PaymentProvider& payments;      // exchanges the card for a token at checkout
  Settings settings;
};

std::unique_ptr<Module> make_module(Deps deps);

// The event types this module handles, declared so that a process that does not host it can
// still have a durable transport keep those events for it (EventBus::expect_subscriber).
std::vector<std::string> subscriptions();

// The module's declaration: name, route prefix, what it uses, what it answers from memory.
const ModuleDescriptor& descriptor();

}  // namespace eshop::basket
