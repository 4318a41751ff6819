#include "app/metrics.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace eshop::app {

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter().Name("eshop_http_requests_total").Help("HTTP requests answered").Register(registry);
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                           .Name("eshop_http_request_duration_seconds")
                                                           .Help("Time from a whole request to its response")
                                                           .Register(registry);
  prometheus::Family<prometheus::Counter>& events =
      prometheus::BuildCounter()
          .Name("eshop_events_total")
          .Help("Integration events by outcome: published, publish_failed, dead_lettered, handled, handler_failed")
          .Register(registry);
  prometheus::Family<prometheus::Gauge>& backlog =
      prometheus::BuildGauge().Name("eshop_outbox_backlog").Help("Events waiting in a module's outbox").Register(registry);
  std::function<std::vector<std::pair<std::string, std::int64_t>>()> backlog_source;

  void count_event(const char* outcome, const char* role, std::string_view module, std::string_view type) {
    events.Add({{"outcome", outcome}, {role, std::string(module)}, {"type", std::string(type)}}).Increment();
  }

  // Label lookups in prometheus-cpp hash and lock; remember the series per label set.
  struct Series {
    prometheus::Counter* count;
    prometheus::Histogram* duration;
  };
  struct Key {
    const http::Route* route;
    int status;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return std::hash<const void*>{}(k.route) ^ (static_cast<std::size_t>(k.status) * 0x9E3779B97F4A7C15ULL);
    }
  };
  std::shared_mutex mutex;
  std::unordered_map<Key, Series, KeyHash> series;

  Series& find(const http::Route* route, int status) {
    const Key key{route, status};
    {
      std::shared_lock lock(mutex);
      if (auto it = series.find(key); it != series.end()) return it->second;
    }
    std::unique_lock lock(mutex);
    if (auto it = series.find(key); it != series.end()) return it->second;
    const std::map<std::string, std::string> labels = {
        {"module", route ? route->module : "none"}, {"route", route ? route->pattern : "unmatched"},
        {"method", route ? route->method : "other"}, {"status", std::to_string(status)}};
    static const prometheus::Histogram::BucketBoundaries buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                    0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
    return series.emplace(key, Series{&requests.Add(labels), &latency.Add(labels, buckets)}).first->second;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::observe_request(const http::Route* route, int status, double seconds) {
  auto& s = impl_->find(route, status);
  s.count->Increment();
  s.duration->Observe(seconds);
}

void Metrics::set_backlog_source(std::function<std::vector<std::pair<std::string, std::int64_t>>()> source) {
  impl_->backlog_source = std::move(source);
}

std::string Metrics::render() const {
  if (impl_->backlog_source)
    for (const auto& [module, n] : impl_->backlog_source())
      impl_->backlog.Add({{"module", module}}).Set(static_cast<double>(n));
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

void Metrics::published(std::string_view source, std::string_view type) {
  impl_->count_event("published", "module", source, type);
}
void Metrics::publish_failed(std::string_view source, std::string_view type) {
  impl_->count_event("publish_failed", "module", source, type);
}
void Metrics::dead_lettered(std::string_view source, std::string_view type) {
  impl_->count_event("dead_lettered", "module", source, type);
}
void Metrics::handled(std::string_view subscriber, std::string_view type) {
  impl_->count_event("handled", "module", subscriber, type);
}
void Metrics::handler_failed(std::string_view subscriber, std::string_view type) {
  impl_->count_event("handler_failed", "module", subscriber, type);
}

}  // namespace eshop::app
