#include <eshop/event_bus.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

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

Start EventBus::starts(const std::string&) const { return Start::waits; }

void EventBus::publish_start(const Event& event, Done done) {
  try {
    publish(event);
  } catch (...) {
    return done(std::current_exception());
  }
  done(nullptr);
}

namespace {

class InProcessBus final : public EventBus {
 public:
  explicit InProcessBus(EventTelemetry& telemetry) : telemetry_(telemetry) {}

  void publish(const Event& event) override {
    // No copy through JSON here: every event reaching a bus comes out of an outbox, where it was
    // stored as JSON text and parsed back, so subscribers already see only what JSON carries.
    std::string failures;
    for (const auto& entry : entries_of(event.type)) {
      try {
        entry->handler(event);
        telemetry_.handled(entry->subscriber, event.type);
      } catch (const std::exception& e) {
        failed(telemetry_, *entry, event.type, event.id, e.what(), failures);
      }
    }
    if (!failures.empty()) throw std::runtime_error("event " + event.id + " not handled by " + failures);
  }

  Start starts(const std::string& type) const override {
    std::lock_guard lock(mutex_);
    const auto it = handlers_.find(type);
    auto start = Start::at_once;
    if (it == handlers_.end()) return start;
    for (const auto& e : it->second) {
      if (!e->start) return Start::waits;
      if (e->blocks) start = Start::blocks;
    }
    return start;
  }

  // Each handler is started; the last one to finish calls `done`, with the failures publish()
  // would have thrown. What finishes holds what it needs of this bus: a bus replaced by another
  // (SwitchingBus::replace) may be gone by then.
  void publish_start(const Event& event, Done done) override {
    const auto entries = entries_of(event.type);
    if (entries.empty()) return done(nullptr);
    struct Join {
      std::atomic<std::size_t> left;
      std::mutex mutex;
      std::string failures;  // under mutex
      Done done;
    };
    auto join = std::make_shared<Join>();
    join->left = entries.size();
    join->done = std::move(done);
    for (const auto& entry : entries) {
      auto finish = [&telemetry = telemetry_, join, entry, id = event.id, type = event.type](std::exception_ptr error) {
        if (!error) {
          telemetry.handled(entry->subscriber, type);
        } else {
          std::string what = "unknown error";
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          std::lock_guard lock(join->mutex);
          failed(telemetry, *entry, type, id, what, join->failures);
        }
        if (join->left.fetch_sub(1) != 1) return;
        join->done(join->failures.empty() ? nullptr
                                          : std::make_exception_ptr(std::runtime_error(
                                                "event " + id + " not handled by " + join->failures)));
      };
      try {
        if (entry->start) entry->start(event, finish);
        else {
          entry->handler(event);
          finish(nullptr);
        }
      } catch (...) {
        finish(std::current_exception());
      }
    }
  }

  void subscribe(std::string subscriber, std::string type, Handler handler) override {
    std::lock_guard lock(mutex_);
    if (running_) throw std::logic_error("subscribe after the bus started");
    auto* startable = handler.target<StartableHandler>();
    auto start = startable ? startable->start : nullptr;
    const bool blocks = startable && startable->blocks;
    handlers_[type].push_back(
        std::make_shared<const Entry>(Entry{std::move(subscriber), std::move(handler), std::move(start), blocks}));
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
      for (const auto& h : list) out.push_back({h->subscriber, type});
    return out;
  }

 private:
  struct Entry {
    std::string subscriber;
    Handler handler;
    std::function<void(const Event&, Done)> start;  // a StartableHandler's; empty for any other
    bool blocks = false;
  };

  std::vector<std::shared_ptr<const Entry>> entries_of(const std::string& type) const {
    std::lock_guard lock(mutex_);
    const auto it = handlers_.find(type);
    if (it == handlers_.end()) return {};
    return it->second;
  }

  static void failed(EventTelemetry& telemetry, const Entry& entry, const std::string& type, const std::string& id, const std::string& error,
              std::string& failures) {
    telemetry.handler_failed(entry.subscriber, type);
    spdlog::error("\"msg\":\"event handler failed\",\"subscriber\":{},\"type\":{},\"eventId\":{},\"error\":{}",
                  nlohmann::json(entry.subscriber).dump(), nlohmann::json(type).dump(), nlohmann::json(id).dump(),
                  nlohmann::json(error).dump());
    failures += (failures.empty() ? "" : "; ") + entry.subscriber + ": " + error;
  }

  EventTelemetry& telemetry_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::shared_ptr<const Entry>>> handlers_;
  bool running_ = false;
};

}  // namespace

std::unique_ptr<EventBus> make_inprocess_bus(EventTelemetry& telemetry) {
  return std::make_unique<InProcessBus>(telemetry);
}

}  // namespace eshop
