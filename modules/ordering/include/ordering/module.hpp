#pragma once
// For the composition root only: builds the ordering module, the place-order saga's orchestrator.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/mail.hpp>
#include <eshop/module.hpp>
#include <eshop/payment.hpp>
#include <eshop/shipping.hpp>

namespace eshop::ordering {

struct Deps {
  Database& db;
  const Clock& clock;
  PaymentProvider& payments;
  ShippingProvider& shipping;
  MailSender& mail;
  // Slow motion for a class to watch: each saga step waits this long before it runs (0: off).
  std::chrono::milliseconds step_delay{0};
};

std::unique_ptr<Module> make_module(Deps deps);

// The event types this module handles, declared so that a process that does not host it can
// still have a durable transport keep those events for it (EventBus::expect_subscriber).
std::vector<std::string> subscriptions();

// The module's declaration: name, route prefix, what it uses, what it answers from memory.
const ModuleDescriptor& descriptor();

}  // namespace eshop::ordering
