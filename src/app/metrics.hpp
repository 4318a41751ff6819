#pragma once
// Prometheus metrics: request counts and latency by module, route and status.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <eshop/router.hpp>
#include <eshop/telemetry.hpp>

#include "net/http_server.hpp"

namespace eshop::app {

// Also the event machinery's telemetry: events published, failed, dead-lettered, handled.
class Metrics final : public EventTelemetry {
 public:
  Metrics();
  ~Metrics();
  // `route` null: the request matched no route.
  void observe_request(const http::Route* route, int status, double seconds);
  // Asked at every scrape: each module's outbox backlog.
  void set_backlog_source(std::function<std::vector<std::pair<std::string, std::int64_t>>()> source);
  // Asked at every scrape: the server's connections.
  void set_connection_source(std::function<net::ConnectionStats()> source);
  // The Prometheus text exposition format, version 0.0.4.
  std::string render() const;

  void published(std::string_view source, std::string_view type) override;
  void publish_failed(std::string_view source, std::string_view type) override;
  void dead_lettered(std::string_view source, std::string_view type) override;
  void handled(std::string_view subscriber, std::string_view type) override;
  void handler_failed(std::string_view subscriber, std::string_view type) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eshop::app
