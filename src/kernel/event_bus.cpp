#include <eshop/event_bus.hpp>

#include <list>
#include <map>
#include <mutex>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include <eshop/crypto.hpp>

namespace eshop {

Event new_event(std::string type, std::string source, nlohmann::json payload, std::string correlation_id,
                const Clock& clock, std::string key) {
  return {crypto::new_uuid_v7(), std::move(type), std::move(source), clock.now(), std::move(correlation_id),
          std::move(payload), std::move(key)};
}

nlohmann::json to_json(const Event& e) {
  return {{"id", e.id},     {"type", e.type},
          {"source", e.source}, {"time", to_rfc3339(e.time)},
          {"correlationId", e.correlation_id}, {"key", e.key}, {"payload", e.payload}};
}

Event event_from_json(const nlohmann::json& j) {
  auto text = [&](const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) throw std::invalid_argument(std::string("event field missing: ") + key);
    return it->get<std::string>();
  };
  Event e;
  e.id = text("id");
  e.type = text("type");
  e.source = text("source");
  const auto time = parse_rfc3339(text("time"));
  if (!time) throw std::invalid_argument("event time is not RFC 3339");
  e.time = *time;
  e.correlation_id = text("correlationId");
  e.payload = j.value("payload", nlohmann::json::object());
  e.key = j.value("key", "");
  return e;
}

void EventBus::attach(const std::string&, std::vector<std::pair<std::string, Handler>>) {
  throw std::logic_error("the " + transport() + " event bus cannot add a subscriber while it runs");
}

void EventBus::detach(const std::string&) {
  throw std::logic_error("the " + transport() + " event bus cannot remove a subscriber while it runs");
}

namespace {

class InProcessBus final : public EventBus {
 public:
  explicit InProcessBus(EventTelemetry& telemetry) : telemetry_(telemetry) {}

  void publish(const Event& event) override {
    // No copy through JSON here: every event reaching a bus comes out of an outbox, where it was
    // stored as JSON text and parsed back, so subscribers already see only what JSON carries.
    const Event& received = event;
    std::vector<const Entry*> entries;
    {
      std::lock_guard lock(mutex_);
      const auto it = handlers_.find(received.type);
      if (it == handlers_.end()) return;
      for (const auto& e : it->second) entries.push_back(&e);
    }
    std::string failures;
    for (const auto* entry : entries) {
      try {
        entry->handler(received);
        telemetry_.handled(entry->subscriber, received.type);
      } catch (const std::exception& e) {
        telemetry_.handler_failed(entry->subscriber, received.type);
        spdlog::error("\"msg\":\"event handler failed\",\"subscriber\":{},\"type\":{},\"eventId\":{},\"error\":{}",
                      nlohmann::json(entry->subscriber).dump(), nlohmann::json(received.type).dump(),
                      nlohmann::json(received.id).dump(), nlohmann::json(e.what()).dump());
        failures += (failures.empty() ? "" : "; ") + entry->subscriber + ": " + e.what();
      }
    }
    if (!failures.empty()) throw std::runtime_error("event " + received.id + " not handled by " + failures);
  }

  void subscribe(std::string subscriber, std::string type, Handler handler) override {
    std::lock_guard lock(mutex_);
    if (running_) throw std::logic_error("subscribe after the bus started");
    handlers_[type].push_back({std::move(subscriber), std::move(handler)});
  }

  void expect_subscriber(std::string, std::string) override {}  // no other process can be reached

  void start() override {
    std::lock_guard lock(mutex_);
    running_ = true;
  }
  void stop() override {
    std::lock_guard lock(mutex_);
    running_ = false;
  }
  bool healthy() const override { return true; }
  std::string transport() const override { return "inproc"; }

  std::vector<Subscription> subscriptions() const override {
    std::lock_guard lock(mutex_);
    std::vector<Subscription> out;
    for (const auto& [type, list] : handlers_)
      for (const auto& h : list) out.push_back({h.subscriber, type});
    return out;
  }

 private:
  struct Entry {
    std::string subscriber;
    Handler handler;
  };

  EventTelemetry& telemetry_;
  mutable std::mutex mutex_;
  std::map<std::string, std::list<Entry>> handlers_;  // list: entries keep their address
  bool running_ = false;
};

}  // namespace

std::unique_ptr<EventBus> make_inprocess_bus(EventTelemetry& telemetry) {
  return std::make_unique<InProcessBus>(telemetry);
}

}  // namespace eshop
