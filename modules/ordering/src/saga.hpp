#pragma once
// The place-order saga, orchestrated by ordering: one step per event, each step a local
// transaction with its outbox, every external call idempotent, every transition a
// compare-and-set on the order's status, so a redelivered event or a crash changes nothing twice.
//
//   basket.checked_out        -> create the order (submitted)          -> order_placed
//   order_placed              -> charge the card (paid | cancelled)    -> catalog.stock_reservation_requested
//   catalog.stock_reserved    -> stock_confirmed                        -> order_stock_confirmed
//   catalog.stock_rejected    -> cancelled/out_of_stock                 -> refund_requested
//   order_stock_confirmed     -> book the shipment (shipped)            -> order_shipped
//   order_shipped             -> bill: invoice number (completed)       -> order_completed
//   order_completed           -> confirmation email
//   refund_requested          -> refund the charge
//   customer cancel           -> cancelled/cancelled_by_customer        -> refund_requested, stock_release_requested
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <eshop/clock.hpp>
#include <eshop/event_bus.hpp>
#include <eshop/mail.hpp>
#include <eshop/payment.hpp>
#include <eshop/shipping.hpp>

#include "store.hpp"

namespace eshop::ordering {

inline constexpr const char* kSubmitted = "submitted";
inline constexpr const char* kPaid = "paid";
inline constexpr const char* kStockConfirmed = "stock_confirmed";
inline constexpr const char* kShipped = "shipped";
inline constexpr const char* kCompleted = "completed";
inline constexpr const char* kCancelled = "cancelled";

class Saga final {
 public:
  Saga(Database& db, const Clock& clock, PaymentProvider& payments, ShippingProvider& shipping, MailSender& mail,
       std::chrono::milliseconds step_delay = {})
      : db_(db), clock_(clock), payments_(payments), shipping_(shipping), mail_(mail), step_delay_(step_delay) {}

  void subscribe(EventBus& bus);
  // The event types subscribe() handles.
  static std::vector<std::string> subscriptions();
  // The owner cancels before shipment; conflict after it. Returns the order as it is now.
  Result<Order> cancel(const std::string& user_id, const std::string& order_id, const std::string& correlation_id);

 public:  // the steps, one per event (see steps() in saga.cpp)
  void create(const Event& e);
  void pay(const Event& e);
  void stock_reserved(const Event& e);
  void stock_rejected(const Event& e);
  void stock_released(const Event& e);
  void ship(const Event& e);
  void bill(const Event& e);
  void confirm(const Event& e);
  void refund(const Event& e);

 private:
  std::optional<Order> load(const std::string& order_id);
  bool seen(const Event& e, const char* handler);

  Database& db_;
  const Clock& clock_;
  PaymentProvider& payments_;
  ShippingProvider& shipping_;
  MailSender& mail_;
  std::chrono::milliseconds step_delay_;
};

}  // namespace eshop::ordering
