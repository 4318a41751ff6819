#include "app/metrics.hpp"

#include <array>
#include <cmath>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>
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
  prometheus::Family<prometheus::Gauge>& connections =
      prometheus::BuildGauge().Name("eshop_http_connections").Help("HTTP connections: open, and the limit").Register(registry);
  prometheus::Family<prometheus::Counter>& refused = prometheus::BuildCounter()
                                                         .Name("eshop_http_connections_refused_total")
                                                         .Help("Connections closed at once: over the limit, or no file descriptor left")
                                                         .Register(registry);
  std::function<net::ConnectionStats()> connection_source;
  prometheus::Family<prometheus::Counter>& seam_calls =
      prometheus::BuildCounter()
          .Name("eshop_seam_calls_total")
          .Help("Calls across a module seam: caller, callee, method, mode (local or remote), outcome")
          .Register(registry);
  prometheus::Family<prometheus::Histogram>& seam_latency = prometheus::BuildHistogram()
                                                                .Name("eshop_seam_call_duration_seconds")
                                                                .Help("Time a call across a module seam took")
                                                                .Register(registry);
  std::mutex seams_mutex;
  std::vector<std::unique_ptr<SeamMeter>> seams;
  net::ConnectionStats connections_seen;  // what the counters already hold

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

  // A request's count and duration go first to counters of its own thread (one writer each, no
  // lock, no cache line shared with the other I/O thread); a scrape adds them into the series.
  static constexpr std::size_t kBuckets = 14;  // the 13 bounds below, and +Inf
  struct Shard {
    Series series;
    std::atomic<std::uint64_t> count{0};
    std::array<std::atomic<std::uint64_t>, kBuckets> buckets{};
    std::atomic<std::uint64_t> nanos{0};
    // What the last scrape took (the scraper's only, under shards_mutex).
    std::uint64_t taken_count = 0, taken_nanos = 0;
    std::array<std::uint64_t, kBuckets> taken_buckets{};
  };
  const std::uint64_t id = next_id++;  // thread-local caches key on it: an address may be reused
  static inline std::atomic<std::uint64_t> next_id{1};
  std::mutex shards_mutex;
  std::vector<std::unique_ptr<Shard>> shards;

  Shard& shard(const http::Route* route, int status) {
    struct LocalKey {
      std::uint64_t metrics;
      Key key;
      bool operator==(const LocalKey&) const = default;
    };
    struct LocalHash {
      std::size_t operator()(const LocalKey& k) const noexcept { return KeyHash{}(k.key) ^ k.metrics; }
    };
    thread_local std::unordered_map<LocalKey, Shard*, LocalHash> mine;
    const LocalKey key{id, {route, status}};
    if (auto it = mine.find(key); it != mine.end()) return *it->second;
    auto fresh = std::make_unique<Shard>();
    fresh->series = find(route, status);
    Shard* shard = fresh.get();
    {
      std::lock_guard lock(shards_mutex);
      shards.push_back(std::move(fresh));
    }
    mine.emplace(key, shard);
    return *shard;
  }

  static void bump(std::atomic<std::uint64_t>& n, std::uint64_t by) {
    n.store(n.load(std::memory_order_relaxed) + by, std::memory_order_release);  // the owning thread only
  }

  void observe(const http::Route* route, int status, double seconds) {
    static const double bounds[kBuckets - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,    0.25,  0.5,    1,     2.5,  5};
    auto& s = shard(route, status);
    std::size_t b = 0;
    while (b < kBuckets - 1 && seconds > bounds[b]) ++b;
    bump(s.count, 1);
    bump(s.buckets[b], 1);
    bump(s.nanos, static_cast<std::uint64_t>(seconds * 1e9));
  }

  // Adds what every thread counted since the last scrape into the Prometheus series.
  void collect_shards() {
    std::lock_guard lock(shards_mutex);
    for (auto& s : shards) {
      const auto count = s->count.load(std::memory_order_acquire);
      if (count == s->taken_count) continue;
      std::vector<double> buckets(kBuckets);
      for (std::size_t i = 0; i < kBuckets; ++i) {
        const auto n = s->buckets[i].load(std::memory_order_acquire);
        buckets[i] = static_cast<double>(n - s->taken_buckets[i]);
        s->taken_buckets[i] = n;
      }
      const auto nanos = s->nanos.load(std::memory_order_acquire);
      s->series.count->Increment(static_cast<double>(count - s->taken_count));
      s->series.duration->ObserveMultiple(buckets, static_cast<double>(nanos - s->taken_nanos) / 1e9);
      s->taken_count = count;
      s->taken_nanos = nanos;
    }
  }

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

void SeamMeter::observe(Outcome outcome, double seconds) const {
  const auto& s = series_[static_cast<int>(outcome)];
  static_cast<prometheus::Counter*>(s.count)->Increment();
  static_cast<prometheus::Histogram*>(s.duration)->Observe(seconds);
}

const SeamMeter& Metrics::seam(std::string_view caller, std::string_view callee, std::string_view method,
                               std::string_view mode) {
  static const prometheus::Histogram::BucketBoundaries buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                                  0.01,   0.025,   0.05,   0.1,   0.25,   1};
  auto meter = std::make_unique<SeamMeter>();
  const char* outcomes[] = {"ok", "error", "unavailable"};
  for (int i = 0; i < 3; ++i) {
    const std::map<std::string, std::string> labels = {{"caller", std::string(caller)}, {"callee", std::string(callee)},
                                                       {"method", std::string(method)}, {"mode", std::string(mode)},
                                                       {"outcome", outcomes[i]}};
    meter->series_[i] = {&impl_->seam_calls.Add(labels), &impl_->seam_latency.Add(labels, buckets)};
  }
  std::lock_guard lock(impl_->seams_mutex);
  impl_->seams.push_back(std::move(meter));
  return *impl_->seams.back();
}

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::observe_request(const http::Route* route, int status, double seconds) {
  impl_->observe(route, status, seconds);
}

void Metrics::observe_proxied(std::string_view module, std::string_view route, std::string_view method, int status,
                              double seconds) {
  static const prometheus::Histogram::BucketBoundaries buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                  0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
  const std::map<std::string, std::string> labels = {{"module", std::string(module)}, {"route", std::string(route)},
                                                     {"method", std::string(method)},
                                                     {"status", std::to_string(status)}};
  // Not the hot path (each one waited for another process): the label lookup is fine here.
  impl_->requests.Add(labels).Increment();
  impl_->latency.Add(labels, buckets).Observe(seconds);
}

void Metrics::set_backlog_source(std::function<std::vector<std::pair<std::string, std::int64_t>>()> source) {
  impl_->backlog_source = std::move(source);
}

void Metrics::set_connection_source(std::function<net::ConnectionStats()> source) {
  impl_->connection_source = std::move(source);
}

std::string Metrics::render() const {
  impl_->collect_shards();
  if (impl_->connection_source) {
    const auto now = impl_->connection_source();
    auto& seen = impl_->connections_seen;
    impl_->connections.Add({{"state", "open"}}).Set(static_cast<double>(now.open));
    impl_->connections.Add({{"state", "limit"}}).Set(static_cast<double>(now.limit));
    impl_->refused.Add({{"reason", "limit"}}).Increment(static_cast<double>(now.refused_over_limit - seen.refused_over_limit));
    impl_->refused.Add({{"reason", "no_file_descriptors"}}).Increment(static_cast<double>(now.refused_no_fds - seen.refused_no_fds));
    seen = now;
  }
  if (impl_->backlog_source)
    for (const auto& [module, n] : impl_->backlog_source())
      impl_->backlog.Add({{"module", module}}).Set(static_cast<double>(n));
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

nlohmann::json Metrics::snapshot() const {
  impl_->collect_shards();
  nlohmann::json requests = nlohmann::json::object(), seams = nlohmann::json::object(),
                 events = nlohmann::json::array(), backlog = nlohmann::json::object();
  auto label = [](const prometheus::ClientMetric& m, const char* name) {
    for (const auto& l : m.label)
      if (l.name == name) return l.value;
    return std::string();
  };
  for (const auto& family : impl_->registry.Collect()) {
    if (family.name == "eshop_http_request_duration_seconds") {
      for (const auto& m : family.metric) {
        auto& r = requests[label(m, "module")];
        if (r.is_null()) r = {{"count", 0}, {"errors", 0}, {"le", nlohmann::json::array()}, {"buckets", nlohmann::json::array()}};
        r["count"] = r["count"].get<std::uint64_t>() + m.histogram.sample_count;
        if (label(m, "status").starts_with("5"))
          r["errors"] = r["errors"].get<std::uint64_t>() + m.histogram.sample_count;
        auto& buckets = r["buckets"];
        if (buckets.empty()) {
          for (const auto& b : m.histogram.bucket) {
            r["le"].push_back(std::isinf(b.upper_bound) ? nlohmann::json(nullptr) : nlohmann::json(b.upper_bound));
            buckets.push_back(0);
          }
        }
        for (std::size_t i = 0; i < m.histogram.bucket.size() && i < buckets.size(); ++i)
          buckets[i] = buckets[i].get<std::uint64_t>() + m.histogram.bucket[i].cumulative_count;
      }
    } else if (family.name == "eshop_seam_calls_total") {
      for (const auto& m : family.metric) {
        const auto key = label(m, "caller") + ">" + label(m, "callee") + ">" + label(m, "mode");
        auto& s = seams[key];
        if (s.is_null())
          s = {{"caller", label(m, "caller")}, {"callee", label(m, "callee")}, {"mode", label(m, "mode")},
               {"calls", 0}, {"failed", 0}};
        const auto n = static_cast<std::uint64_t>(m.counter.value);
        s["calls"] = s["calls"].get<std::uint64_t>() + n;
        if (label(m, "outcome") != "ok") s["failed"] = s["failed"].get<std::uint64_t>() + n;
      }
    } else if (family.name == "eshop_events_total") {
      for (const auto& m : family.metric)
        events.push_back({{"module", label(m, "module")}, {"type", label(m, "type")}, {"outcome", label(m, "outcome")},
                          {"count", static_cast<std::uint64_t>(m.counter.value)}});
    }
  }
  if (impl_->backlog_source)
    for (const auto& [module, n] : impl_->backlog_source()) backlog[module] = n;
  nlohmann::json seam_list = nlohmann::json::array();
  for (auto& [key, s] : seams.items()) seam_list.push_back(s);
  return {{"requests", requests}, {"seams", seam_list}, {"events", events}, {"backlog", backlog}};
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
