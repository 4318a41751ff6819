#pragma once
// The place-order saga, orchestrated by ordering: one step per event, each step a local
// transaction with its outbox and its inbox record (EventHandlers), every external call
// idempotent, every transition a compare-and-set on the order's status, so a redelivered event or
// a crash changes nothing twice.
//
//   basket.checked_out        -> create the order (submitted)          -> order_placed
//   order_placed              -> charge the card (paid | cancelled)    -> catalog.stock_reservation_requested
//   catalog.stock_reserved    -> stock_confirmed                        -> order_stock_confirmed
//   catalog.stock_rejected    -> cancelled/out_of_stock                 -> refund_requested
//   order_stock_confirmed     -> book the shipment (shipped), and bill:
//                                invoice number (completed)             -> order_completed
//     (in slow motion billing is a step of its own: ship -> order_shipped -> bill -> order_completed)
//   order_completed           -> confirmation email
//   refund_requested          -> refund the charge
//   customer cancel           -> (OrderService::cancel)                 -> refund_requested, stock_release_requested
//
// The steps are private: only events drive them.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <eshop/clock.hpp>
#include <eshop/event_bus.hpp>
#include <eshop/mail.hpp>
#include <eshop/payment.hpp>
#include <eshop/shipping.hpp>

#include "order.hpp"

namespace eshop {
class Database;
class Tx;
}  // namespace eshop

namespace eshop::ordering {

class Saga final {
 public:
  Saga(Database& db, const Clock& clock, PaymentProvider& payments, ShippingProvider& shipping, MailSender& mail,
       std::chrono::milliseconds step_delay = {})
      : db_(db), clock_(clock), payments_(payments), shipping_(shipping), mail_(mail), step_delay_(step_delay) {}

  // Every step, each on the event that drives it.
  void subscribe(EventBus& bus);
  // The event types subscribe() handles.
  static std::vector<std::string> subscriptions();

 private:
  // What a step's external call left for its transaction: the order as it was read, and the
  // call's outcome when the order was still in the state that asks for it.
  struct Charged {
    std::optional<Order> order;
    std::optional<ChargeResult> charge;
  };
  struct Booked {
    std::optional<Order> order;
    std::optional<std::string> tracking_number;
  };
  struct Done {
    std::optional<Order> order;
    bool called = false;
  };

  // Each step's external call, given the order as its step read it (with the inbox check, in one
  // read transaction; EventHandlers::handle_after).
  Charged charge(std::optional<Order> order);
  Booked book_shipment(std::optional<Order> order);
  Done send_confirmation(std::optional<Order> order);
  Done refund_payment(std::optional<Order> order);

  // shipped -> completed with an invoice number, in the shipment's transaction or (slow motion) on
  // order_shipped.
  void bill(Tx& tx, const OrderId& id, const std::string& correlation_id);

  std::string now() const;

  Database& db_;
  const Clock& clock_;
  PaymentProvider& payments_;
  ShippingProvider& shipping_;
  MailSender& mail_;
  std::chrono::milliseconds step_delay_;
};

}  // namespace eshop::ordering
