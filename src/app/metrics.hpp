#pragma once
// Prometheus metrics: request counts and latency by module, route and status.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eshop/router.hpp>
#include <eshop/telemetry.hpp>

#include "net/http_server.hpp"

namespace eshop::app {

// One seam between modules, as one caller sees it: calls counted by outcome, with their latency.
// Resolved once (label lookups hash and lock), then cheap per call.
class SeamMeter final {
 public:
  enum class Outcome { ok, error, unavailable };
  void observe(Outcome outcome, double seconds) const;

 private:
  friend class Metrics;
  struct Series {
    void* count = nullptr;     // prometheus::Counter
    void* duration = nullptr;  // prometheus::Histogram
  };
  Series series_[3];
};

// Also the event machinery's telemetry: events published, failed, dead-lettered, handled.
class Metrics final : public EventTelemetry {
 public:
  Metrics();
  ~Metrics();
  // `route` null: the request matched no route.
  void observe_request(const http::Route* route, int status, double seconds);
  // A request this process proxied, labelled with the module and route that answered it elsewhere.
  void observe_proxied(std::string_view module, std::string_view route, std::string_view method, int status,
                       double seconds);
  // A seam: `caller` calls `callee`'s `method`, in this process ("local") or over HTTP ("remote").
  // The meter lives as long as these Metrics.
  const SeamMeter& seam(std::string_view caller, std::string_view callee, std::string_view method,
                        std::string_view mode);
  // Asked at every scrape: each module's outbox backlog.
  void set_backlog_source(std::function<std::vector<std::pair<std::string, std::int64_t>>()> source);
  // Asked at every scrape: the server's connections.
  void set_connection_source(std::function<net::ConnectionStats()> source);
  // The Prometheus text exposition format, version 0.0.4.
  std::string render() const;
  // The same counters, summed for the architecture page (cumulative: the page takes differences):
  // requests per module with latency buckets, calls per seam, events per module and type by
  // outcome, and each module's outbox backlog.
  nlohmann::json snapshot() const;

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
