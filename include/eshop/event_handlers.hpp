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
//
// Where the database writes its commits in the background (SQLite's group commit), and not in
// slow motion, every shape is a StartableHandler too: on the in-process bus no thread waits for
// its commit (handle's needs no lane thread at all; handle_after's lane waits for the call only).
// then() must not run on the thread that commits (catalog's refresh takes the lock its own writers
// hold while they wait for that thread): it runs on the subscriber's then-thread, and the event is
// done once it returned.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <eshop/database.hpp>
#include <eshop/event_bus.hpp>
#include <eshop/outbox.hpp>

namespace eshop {

// Runs tasks one at a time, in the order posted, on a thread of its own (named `name`); its
// destructor runs what is still queued, then joins.
class ThenRunner final {
 public:
  explicit ThenRunner(std::string name);
  ~ThenRunner();
  ThenRunner(const ThenRunner&) = delete;
  ThenRunner& operator=(const ThenRunner&) = delete;
  void post(std::function<void()> task);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

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
    auto shared = std::make_shared<Effect>(std::move(effect));
    auto handle = [&db = db_, name = std::string(handler), effect = shared](const Event& event) {
      const auto payload = event.payload.get<E>();
      inbox::handle_once(db, event, name, [&](Tx& tx) { (*effect)(tx, payload, event); });
    };
    // Where the database's commits are written in the background (SQLite's group commit), the
    // effect can also be started without a thread waiting for its commit: the relay then needs
    // no lane for the event (see StartableHandler). Not in slow motion, whose delay waits.
    if (!db_.writes_in_background() || options_.delay.count() > 0) {
      add(E::kType, std::move(handle));
      return *this;
    }
    auto start = [&db = db_, name = std::string(handler), effect = shared](const Event& event, Done done) {
      auto input = std::make_shared<const std::pair<Event, E>>(event, event.payload.get<E>());
      inbox::handle_once_then(
          db, event, name, [input, effect](Tx& tx) { (*effect)(tx, input->second, input->first); }, std::move(done));
    };
    add(E::kType, StartableHandler{std::move(handle), std::move(start)});
    return *this;
  }

  template <class E, class Effect, class Then>
  EventHandlers& handle(std::string_view handler, Effect effect, Then then) {
    using Result = std::invoke_result_t<Effect&, Tx&, const E&, const Event&>;
    static_assert(!std::is_void_v<Result>, "an effect followed by then() returns what then() needs");
    struct Steps {
      Effect effect;
      Then then;
    };
    auto steps = std::make_shared<const Steps>(Steps{std::move(effect), std::move(then)});
    auto handle = [&db = db_, name = std::string(handler), steps](const Event& event) {
      const auto payload = event.payload.get<E>();
      std::optional<Result> result;
      // On PostgreSQL a serialization failure runs the transaction again: the last run's result wins.
      if (inbox::handle_once(db, event, name, [&](Tx& tx) { result.emplace(steps->effect(tx, payload, event)); }))
        steps->then(*result);
    };
    if (!db_.writes_in_background() || options_.delay.count() > 0) {
      add(E::kType, std::move(handle));
      return *this;
    }
    // Started: the effect joins the group commit with no thread waiting for it; once it committed,
    // then() runs on this subscriber's then-thread (not on the committer's), and the event is done
    // after it, as when a lane waited.
    auto start = [&db = db_, name = std::string(handler), steps, runner = then_runner()](const Event& event, Done done) {
      struct State {
        Event event;
        E payload;
        std::optional<Result> result;  // stays empty for a duplicate
      };
      auto state = std::make_shared<State>(State{event, event.payload.get<E>(), std::nullopt});
      inbox::handle_once_then(
          db, event, name, [state, steps](Tx& tx) { state->result.emplace(steps->effect(tx, state->payload, state->event)); },
          [state, steps, runner, done = std::move(done)](std::exception_ptr error) mutable {
            if (error || !state->result) return done(error);
            runner->post([state, steps, done = std::move(done)] {
              std::exception_ptr failed;
              try {
                steps->then(*state->result);
              } catch (...) {
                failed = std::current_exception();
              }
              done(failed);
            });
          });
    };
    add(E::kType, StartableHandler{std::move(handle), std::move(start)});
    return *this;
  }

  template <class E, class Read, class Call, class Effect>
  EventHandlers& handle_after(std::string_view handler, Read read, Call call, Effect effect) {
    using Input = std::invoke_result_t<Read&, Tx&, const E&, const Event&>;
    using Result = std::invoke_result_t<Call&, Input&&, const E&, const Event&>;
    static_assert(std::is_invocable_v<Effect&, Tx&, const Result&, const E&, const Event&>,
                  "effect(Tx&, const Result&, const E&, const Event&)");
    struct Steps {
      Read read;
      Call call;
      Effect effect;
    };
    auto steps = std::make_shared<const Steps>(Steps{std::move(read), std::move(call), std::move(effect)});
    // The inbox check and the read, then the call, outside any transaction; nullopt for a duplicate.
    auto call_once = [&db = db_, name = std::string(handler), steps](const E& payload,
                                                                      const Event& event) -> std::optional<Result> {
      std::optional<Input> input = db.read([&](Tx& tx) -> std::optional<Input> {
        if (inbox::seen(tx, event, name)) return std::nullopt;
        return steps->read(tx, payload, event);
      });
      if (!input) return std::nullopt;
      return steps->call(std::move(*input), payload, event);  // read's result moves on, not copied
    };
    auto handle = [&db = db_, name = std::string(handler), steps, call_once](const Event& event) {
      const auto payload = event.payload.get<E>();
      const auto result = call_once(payload, event);
      if (!result) return;
      inbox::handle_once(db, event, name, [&](Tx& tx) { steps->effect(tx, *result, payload, event); });
    };
    if (!db_.writes_in_background() || options_.delay.count() > 0) {
      add(E::kType, std::move(handle));
      return *this;
    }
    // Started: the call is waited for, its effect's commit is not (see handle()).
    auto start = [&db = db_, name = std::string(handler), steps, call_once](const Event& event, Done done) {
      auto payload = event.payload.get<E>();
      auto result = call_once(payload, event);
      if (!result) return done(nullptr);
      auto input = std::make_shared<const std::tuple<Event, E, Result>>(event, std::move(payload), std::move(*result));
      inbox::handle_once_then(
          db, event, name,
          [input, steps](Tx& tx) { steps->effect(tx, std::get<2>(*input), std::get<1>(*input), std::get<0>(*input)); },
          std::move(done));
    };
    add(E::kType, StartableHandler{std::move(handle), std::move(start), true});
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
  // The thread that runs this subscriber's started then() steps, one at a time, in the order their
  // commits finished; made on first use, and stopped once the last handler holding it is gone.
  std::shared_ptr<ThenRunner> then_runner();

  EventBus& bus_;
  Database& db_;
  std::string subscriber_;
  Options options_;
  std::shared_ptr<ThenRunner> then_runner_;
};

}  // namespace eshop
