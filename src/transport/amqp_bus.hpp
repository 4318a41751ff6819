#pragma once
// The RabbitMQ transport of the event bus (librabbitmq-c). See amqp_bus.cpp for the topology.
#include <chrono>
#include <memory>
#include <string>

#include <eshop/event_bus.hpp>
#include <eshop/telemetry.hpp>

namespace eshop::transport {

struct AmqpOptions {
  std::string url;                       // amqp://user:pass@host:port/vhost
  std::string name_space = "eshop";      // prefix of the exchange and queues: one per shop
  int delivery_limit = 5;                // deliveries of one message before it is dead-lettered
  int prefetch = 64;
  std::chrono::milliseconds timeout{5000};  // connect, confirm
};

std::unique_ptr<EventBus> make_amqp_bus(AmqpOptions options, EventTelemetry& telemetry);

}  // namespace eshop::transport
