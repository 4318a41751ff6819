#include <eshop/event_bus.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

namespace eshop {

nlohmann::json to_json(const Event& e) {
  return {{"id", e.id},     {"type", e.type},
          {"source", e.source}, {"time", to_rfc3339(e.time)},
          {"correlationId", e.correlation_id}, {"payload", e.payload}};
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
  return e;
}

namespace {

class InProcessBus final : public EventBus {
 public:
  ~InProcessBus() override { stop(); }

  void publish(const Event& event) override {
    // Serialize now, as a wire transport would: the subscriber sees only what JSON carries.
    std::string wire = to_json(event).dump();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(wire));
    }
    wake_.notify_one();
  }

  void subscribe(std::string subscriber, std::string type, Handler handler) override {
    std::lock_guard lock(mutex_);
    if (running_) throw std::logic_error("subscribe after the bus started");
    handlers_[type].push_back({std::move(subscriber), std::move(handler)});
  }

  void start() override {
    std::lock_guard lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    worker_ = std::thread([this] { run(); });
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      if (!running_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
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

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was delivered
      std::string wire = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      dispatch(wire);
      lock.lock();
    }
  }

  void dispatch(const std::string& wire) {
    const Event event = event_from_json(nlohmann::json::parse(wire));
    const auto it = handlers_.find(event.type);  // handlers_ is fixed once running
    if (it == handlers_.end()) return;
    for (const auto& entry : it->second) {
      try {
        entry.handler(event);
      } catch (const std::exception& e) {
        spdlog::error("\"msg\":\"event handler failed\",\"subscriber\":{},\"type\":{},\"eventId\":{},\"error\":{}",
                      nlohmann::json(entry.subscriber).dump(), nlohmann::json(event.type).dump(),
                      nlohmann::json(event.id).dump(), nlohmann::json(e.what()).dump());
      }
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::map<std::string, std::vector<Entry>> handlers_;
  std::thread worker_;
  bool running_ = false;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<EventBus> make_inprocess_bus() { return std::make_unique<InProcessBus>(); }

}  // namespace eshop
