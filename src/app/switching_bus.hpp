#pragma once
// The event bus a process's relays and modules are wired to. It forwards to a transport and
// remembers who subscribed to what, so that the transport can be replaced while the shop runs
// (in-process -> RabbitMQ) and modules can join or leave it (a module moving in or out).
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include <eshop/event_bus.hpp>
#include <eshop/module.hpp>

namespace eshop::app {

class SwitchingBus final : public EventBus {
 public:
  SwitchingBus(std::unique_ptr<EventBus> transport, std::string url);

  void publish(const Event& event) override;
  Start starts(const std::string& type) const override;
  void publish_start(const Event& event, Done done) override;
  void subscribe(std::string subscriber, std::string type, Handler handler) override;
  void expect_subscriber(std::string subscriber, std::string type) override;
  void attach(const std::string& subscriber, std::vector<std::pair<std::string, Handler>> handlers) override;
  void detach(const std::string& subscriber) override;
  void start() override;
  void stop() override;
  bool healthy() const override;
  std::string transport() const override;
  std::vector<Subscription> subscriptions() const override;

  // Replaces the transport by `next` (not started): every subscriber and expected subscriber is
  // declared on it, it starts, and the old one stops. The caller has paused every publisher
  // (the outbox relays): what they had not delivered waits in the outboxes for the new transport.
  void replace(std::unique_ptr<EventBus> next, std::string url);
  // The transport's URL as configured ("inproc" or amqp://...), credentials included.
  std::string url() const;

  // The handlers `module` would subscribe (Module::subscribe, recorded without subscribing).
  static std::vector<std::pair<std::string, Handler>> handlers_of(Module& module);

 private:
  // Who is attached, and the transport's lifecycle, change one at a time under control_. The
  // transport pointer is read under a shared lock, taken exclusively only for the instant it is
  // replaced: a subscriber detaching (a module moving out) must not wait for a gap between the
  // relays' publishes, which under load may not come for seconds (glibc's rwlocks prefer readers).
  mutable std::mutex control_;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<EventBus> transport_;  // under mutex_
  std::string url_;                      // under mutex_
  std::map<std::string, std::vector<std::pair<std::string, Handler>>> handlers_;  // by subscriber; under control_
  std::map<std::string, std::set<std::string>> expected_;                         // elsewhere; under control_
  bool running_ = false;                                                           // under control_
};

}  // namespace eshop::app
