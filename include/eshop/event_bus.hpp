#pragma once
// Integration events and the bus that carries them. Handlers never know the transport.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <eshop/clock.hpp>

namespace eshop {

// A CloudEvents-like envelope: the payload is the module's public, versioned contract.
struct Event {
  std::string id;              // unique per event; consumers de-duplicate on it
  std::string type;            // versioned: "catalog.product_price_changed.v1"
  std::string source;          // the publishing module
  TimePoint time;
  std::string correlation_id;  // the request id that caused it
  nlohmann::json payload;
};

nlohmann::json to_json(const Event& event);
// Throws std::invalid_argument when a field is missing or of the wrong type.
Event event_from_json(const nlohmann::json& json);

struct Subscription {
  std::string subscriber;  // the module that handles it
  std::string type;
};

class EventBus {
 public:
  using Handler = std::function<void(const Event&)>;
  virtual ~EventBus() = default;
  // Hands the event to the transport; delivery to subscribers is asynchronous.
  virtual void publish(const Event& event) = 0;
  // `subscriber` (a module name) handles every event of `type`. Call before start().
  virtual void subscribe(std::string subscriber, std::string type, Handler handler) = 0;
  virtual void start() = 0;
  // Delivers what is queued, then stops.
  virtual void stop() = 0;
  virtual bool healthy() const = 0;
  virtual std::string transport() const = 0;
  virtual std::vector<Subscription> subscriptions() const = 0;
};

// Dispatches on its own thread; every event is round-tripped through JSON so that a
// transport swap cannot change behaviour.
std::unique_ptr<EventBus> make_inprocess_bus();

}  // namespace eshop
