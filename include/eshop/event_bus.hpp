#pragma once
// Integration events and the bus that carries them. Handlers never know the transport.
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <eshop/clock.hpp>
#include <eshop/telemetry.hpp>

namespace eshop {

// A CloudEvents-like envelope: the payload is the module's public, versioned contract.
struct Event {
  std::string id;              // unique per event; consumers de-duplicate on it
  std::string type;            // versioned: "catalog.product_price_changed.v1"
  std::string source;          // the publishing module
  TimePoint time;
  std::string correlation_id;  // the request id that caused it
  nlohmann::json payload;
  // Events with the same key are delivered in the order they were published (the aggregate:
  // an order id, a product); events with different keys may be delivered in parallel.
  // Empty: the event's own id, so it is ordered with nothing else.
  std::string key{};
};

// A new event with a fresh id, stamped with the clock's time.
Event new_event(std::string type, std::string source, nlohmann::json payload, std::string correlation_id,
                const Clock& clock, std::string key = {});

nlohmann::json to_json(const Event& event);
// Throws std::invalid_argument when a field is missing or of the wrong type.
Event event_from_json(const nlohmann::json& json);

struct Subscription {
  std::string subscriber;  // the module that handles it
  std::string type;
};

// The transport itself is unreachable (a broker down): the event is fine and waits in the outbox
// for as long as it takes; it is not counted as a failed delivery attempt.
struct TransportUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What runs when a handler started without its caller waiting is done: nullptr when it succeeded.
using Done = std::function<void(std::exception_ptr)>;

// A handler that can also be started without its caller waiting for it: `start` copies what it
// needs from the event, hands its work on (a write to a database's group commit) and returns;
// `done` runs once that work is finished, on whichever thread finished it. `start` may first
// block for a while (`blocks`: an external call before the write). Passed as an EventBus::Handler
// it is the synchronous `handle`, so a bus that cannot use `start` (a broker's consumer, a
// recorder) calls it as any other; the in-process bus uses `start`.
struct StartableHandler {
  std::function<void(const Event&)> handle;
  std::function<void(const Event&, Done)> start;
  bool blocks = false;
  void operator()(const Event& event) const { handle(event); }
};

// How EventBus::publish_start() returns for an event of a type.
enum class Start {
  waits,     // once every handler finished (publish(), then `done`)
  blocks,    // once every handler handed its last work on, after what it had to wait for itself
  at_once,   // at once: every handler only handed its work on
};

class EventBus {
 public:
  using Handler = std::function<void(const Event&)>;
  virtual ~EventBus() = default;
  // Hands the event to the transport and returns once the transport has taken
  // responsibility for it; throws when it has not (the outbox relay then retries).
  // Only outbox relays publish, never a request thread or an open transaction.
  virtual void publish(const Event& event) = 0;
  // How publish_start() of an event of `type` returns: in-process, `blocks` or `at_once` when every
  // subscriber of the type is a StartableHandler. Then a relay need not give the event a thread
  // (a lane) that would wait for its commit, and for `at_once` no thread at all.
  virtual Start starts(const std::string& type) const;
  // publish() without waiting for what was handed on: `done` runs once the transport took
  // responsibility (in-process: every handler finished), with what publish() would have thrown.
  // By default publish(), then `done`, on the caller's thread.
  virtual void publish_start(const Event& event, Done done);
  // `subscriber` (a module name) handles every event of `type`. Call before start().
  virtual void subscribe(std::string subscriber, std::string type, Handler handler) = 0;
  // `subscriber` runs in another process and handles `type`: a durable transport keeps such
  // events for it from now on, even before that process first connects. In-process: nothing.
  virtual void expect_subscriber(std::string subscriber, std::string type) = 0;
  virtual void start() = 0;
  // While running (a module moving in or out of this process): `subscriber` starts handling its
  // types, or stops, returning once its running handlers have finished; the transport keeps its
  // events for it meanwhile (a durable queue). Transports that cannot throw std::logic_error.
  virtual void attach(const std::string& subscriber, std::vector<std::pair<std::string, Handler>> handlers);
  virtual void detach(const std::string& subscriber);
  // Delivers what is queued, then stops.
  virtual void stop() = 0;
  virtual bool healthy() const = 0;
  virtual std::string transport() const = 0;
  virtual std::vector<Subscription> subscriptions() const = 0;
};

// Delivers on the publishing relay's thread, to every subscriber of the type, and takes
// responsibility only when every handler succeeded: a failure makes publish() throw (after
// the other handlers ran), so the relay retries and the inboxes drop the repeats. Events reach
// it from outboxes, stored as JSON and parsed back, so a transport swap cannot change behaviour.
std::unique_ptr<EventBus> make_inprocess_bus(EventTelemetry& telemetry);

}  // namespace eshop
