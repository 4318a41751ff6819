#pragma once
// For the composition root only: builds the ordering module, the place-order saga's orchestrator.
#include <memory>

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
};

std::unique_ptr<Module> make_module(Deps deps);

}  // namespace eshop::ordering
