#include "app/switching_bus.hpp"

#include <stdexcept>

namespace eshop::app {

namespace {

// Collects what Module::subscribe asks for, and does nothing else.
class Recorder final : public EventBus {
 public:
  std::vector<std::pair<std::string, Handler>> handlers;
  void publish(const Event&) override { throw std::logic_error("a module publishes through its outbox"); }
  void subscribe(std::string, std::string type, Handler handler) override {
    handlers.emplace_back(std::move(type), std::move(handler));
  }
  void expect_subscriber(std::string, std::string) override {}
  void start() override {}
  void stop() override {}
  bool healthy() const override { return true; }
  std::string transport() const override { return "recorder"; }
  std::vector<Subscription> subscriptions() const override { return {}; }
};

}  // namespace

SwitchingBus::SwitchingBus(std::unique_ptr<EventBus> transport, std::string url)
    : transport_(std::move(transport)), url_(std::move(url)) {}

std::vector<std::pair<std::string, EventBus::Handler>> SwitchingBus::handlers_of(Module& module) {
  Recorder recorder;
  module.subscribe(recorder);
  return std::move(recorder.handlers);
}

void SwitchingBus::publish(const Event& event) {
  std::shared_lock lock(mutex_);
  transport_->publish(event);
}

Start SwitchingBus::starts(const std::string& type) const {
  std::shared_lock lock(mutex_);
  return transport_->starts(type);
}

// A transport replaced between starts() and here is fine: the default publish_start() publishes
// and then calls `done`.
void SwitchingBus::publish_start(const Event& event, Done done) {
  std::shared_lock lock(mutex_);
  transport_->publish_start(event, std::move(done));
}

void SwitchingBus::subscribe(std::string subscriber, std::string type, Handler handler) {
  std::lock_guard control(control_);
  std::shared_lock lock(mutex_);
  handlers_[subscriber].emplace_back(type, handler);
  transport_->subscribe(std::move(subscriber), std::move(type), std::move(handler));
}

void SwitchingBus::expect_subscriber(std::string subscriber, std::string type) {
  std::lock_guard control(control_);
  std::shared_lock lock(mutex_);
  expected_[subscriber].insert(type);
  transport_->expect_subscriber(std::move(subscriber), std::move(type));
}

void SwitchingBus::attach(const std::string& subscriber, std::vector<std::pair<std::string, Handler>> handlers) {
  std::lock_guard control(control_);
  std::shared_lock lock(mutex_);
  transport_->attach(subscriber, handlers);
  handlers_[subscriber] = std::move(handlers);
  expected_.erase(subscriber);
}

void SwitchingBus::detach(const std::string& subscriber) {
  std::lock_guard control(control_);
  std::shared_lock lock(mutex_);
  transport_->detach(subscriber);
  auto& expected = expected_[subscriber];
  for (const auto& [type, handler] : handlers_[subscriber]) expected.insert(type);
  handlers_.erase(subscriber);
}

void SwitchingBus::start() {
  std::lock_guard control(control_);
  std::shared_lock lock(mutex_);
  transport_->start();
  running_ = true;
}

void SwitchingBus::stop() {
  std::lock_guard control(control_);
  std::shared_lock lock(mutex_);
  transport_->stop();
  running_ = false;
}

bool SwitchingBus::healthy() const {
  std::shared_lock lock(mutex_);
  return transport_->healthy();
}

std::string SwitchingBus::transport() const {
  std::shared_lock lock(mutex_);
  return transport_->transport();
}

std::vector<Subscription> SwitchingBus::subscriptions() const {
  std::shared_lock lock(mutex_);
  return transport_->subscriptions();
}

std::string SwitchingBus::url() const {
  std::shared_lock lock(mutex_);
  return url_;
}

void SwitchingBus::replace(std::unique_ptr<EventBus> next, std::string url) {
  std::lock_guard control(control_);
  for (const auto& [subscriber, list] : handlers_)
    for (const auto& [type, handler] : list) next->subscribe(subscriber, type, handler);
  for (const auto& [subscriber, types] : expected_)
    for (const auto& type : types) next->expect_subscriber(subscriber, type);
  if (running_) next->start();
  {
    std::unique_lock lock(mutex_);
    std::swap(transport_, next);
    url_ = std::move(url);
  }
  next->stop();  // the old transport, which nobody reaches any more
}

}  // namespace eshop::app
