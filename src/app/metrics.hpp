#pragma once
// Prometheus metrics: request counts and latency by module, route and status.
#include <memory>
#include <string>
#include <string_view>

namespace eshop::app {

class Metrics final {
 public:
  Metrics();
  ~Metrics();
  void observe_request(std::string_view module, std::string_view route, std::string_view method, int status,
                       double seconds);
  // The Prometheus text exposition format, version 0.0.4.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eshop::app
