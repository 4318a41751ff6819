#pragma once
// A module's reactions to events, each wrapped in its inbox: the one way every module handles an
// event (the architecture tests refuse a module that subscribes or records its inbox by hand).
//
// Each handler has a name. The inbox records it with the id of every event it handled, in the same
// transaction as the handler's effect, so an event delivered twice (an at-least-once broker, a
// crash before the ack, a redelivery after a module moved) changes nothing the second time. The
// payload arrives typed (E's from_json); one that does not parse fails the handler, and the bus
// redelivers it up to its limit, then dead-letters it.
//
//   EventHandlers on(bus, db, "basket");
//   on.handle<catalog::events::ProductDeleted>("basket.product_deleted",
//       [](Tx& tx, const catalog::events::ProductDeleted& e, const Event&) { store::remove_product(tx, e.product_id); });
//
// Three shapes:
// - handle(name, effect): effect(Tx&, const E&, const Event&) is the whole reaction, in one
//   transaction with the inbox record.
// - handle(name, effect, then): effect returns a value; then(value) runs after that transaction
//   committed, not for a duplicate (catalog refreshes its in-memory read model from it).
// - handle_after(name, call, effect): call(const E&, const Event&) runs first, outside any
//   transaction (an external call: charge a card, book a shipment, send a mail), and not at all for
//   an event already handled. It must be idempotent (keyed by the order, say): a crash between the
//   call and the commit runs it again. What it returns goes to effect(Tx&, result, const E&,
//   const Event&), which commits with the inbox record.
// - handle_after(name, read, call, effect): the same, with what the call needs read first:
//   read(Tx&, const E&, const Event&) runs in one read transaction with the inbox check (so an
//   event's step reads once, not twice), and call(read's result, const E&, const Event&) then
//   runs outside any transaction.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <eshop/database.hpp>
#include <eshop/event_bus.hpp>
#include <eshop/outbox.hpp>

namespace eshop {

struct EventHandlersOptions {
  // Slow motion (a demonstration setting, off by default): each handler waits this long before
  // it runs, outside any transaction, so a class sees every step. Redeliveries wait too.
  std::chrono::milliseconds delay{0};
};

class EventHandlers final {
 public:
  using Options = EventHandlersOptions;

  EventHandlers(EventBus& bus, Database& db, std::string subscriber, Options options = {})
      : bus_(bus), db_(db), subscriber_(std::move(subscriber)), options_(options) {}

  template <class E, class Effect>
  EventHandlers& handle(std::string_view handler, Effect effect) {
    static_assert(std::is_invocable_v<Effect&, Tx&, const E&, const Event&>,
                  "effect(Tx&, const E&, const Event&)");
    add(E::kType, [&db = db_, name = std::string(handler), effect = std::move(effect)](const Event& event) {
      const auto payload = event.payload.get<E>();
      inbox::handle_once(db, event, name, [&](Tx& tx) { effect(tx, payload, event); });
    });
    return *this;
  }

  template <class E, class Effect, class Then>
  EventHandlers& handle(std::string_view handler, Effect effect, Then then) {
    using Result = std::invoke_result_t<Effect&, Tx&, const E&, const Event&>;
    static_assert(!std::is_void_v<Result>, "an effect followed by then() returns what then() needs");
    add(E::kType, [&db = db_, name = std::string(handler), effect = std::move(effect),
                   then = std::move(then)](const Event& event) {
      const auto payload = event.payload.get<E>();
      std::optional<Result> result;
      // On PostgreSQL a serialization failure runs the transaction again: the last run's result wins.
      if (inbox::handle_once(db, event, name, [&](Tx& tx) { result.emplace(effect(tx, payload, event)); }))
        then(*result);
    });
    return *this;
  }

  template <class E, class Read, class Call, class Effect>
  EventHandlers& handle_after(std::string_view handler, Read read, Call call, Effect effect) {
    using Input = std::invoke_result_t<Read&, Tx&, const E&, const Event&>;
    using Result = std::invoke_result_t<Call&, Input&&, const E&, const Event&>;
    static_assert(std::is_invocable_v<Effect&, Tx&, const Result&, const E&, const Event&>,
                  "effect(Tx&, const Result&, const E&, const Event&)");
    add(E::kType, [&db = db_, name = std::string(handler), read = std::move(read), call = std::move(call),
                   effect = std::move(effect)](const Event& event) {
      const auto payload = event.payload.get<E>();
      std::optional<Input> input = db.read([&](Tx& tx) -> std::optional<Input> {
        if (inbox::seen(tx, event, name)) return std::nullopt;
        return read(tx, payload, event);
      });
      if (!input) return;
      const Result result = call(std::move(*input), payload, event);  // read's result moves on, not copied
      inbox::handle_once(db, event, name, [&](Tx& tx) { effect(tx, result, payload, event); });
    });
    return *this;
  }

  template <class E, class Call, class Effect>
  EventHandlers& handle_after(std::string_view handler, Call call, Effect effect) {
    // The shape below with nothing to read: one read transaction for the inbox check alone.
    return handle_after<E>(
        handler, [](Tx&, const E&, const Event&) { return std::monostate{}; },
        [call = std::move(call)](std::monostate, const E& payload, const Event& event) {
          return call(payload, event);
        },
        std::move(effect));
  }

 private:
  void add(std::string_view type, EventBus::Handler handler);

  EventBus& bus_;
  Database& db_;
  std::string subscriber_;
  Options options_;
};

}  // namespace eshop
