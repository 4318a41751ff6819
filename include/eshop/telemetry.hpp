#pragma once
// What the event machinery reports; the composition root turns it into metrics.
#include <string_view>

namespace eshop {

class EventTelemetry {
 public:
  virtual ~EventTelemetry() = default;
  virtual void published(std::string_view source, std::string_view type) = 0;       // the transport took it
  virtual void publish_failed(std::string_view source, std::string_view type) = 0;  // will be retried
  virtual void dead_lettered(std::string_view source, std::string_view type) = 0;   // gave up on it
  virtual void handled(std::string_view subscriber, std::string_view type) = 0;
  virtual void handler_failed(std::string_view subscriber, std::string_view type) = 0;
};

// Reports nothing: for tests and tools.
class NoTelemetry final : public EventTelemetry {
 public:
  void published(std::string_view, std::string_view) override {}
  void publish_failed(std::string_view, std::string_view) override {}
  void dead_lettered(std::string_view, std::string_view) override {}
  void handled(std::string_view, std::string_view) override {}
  void handler_failed(std::string_view, std::string_view) override {}
};

}  // namespace eshop
