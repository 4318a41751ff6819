#pragma once
// The composition root: builds every hosted module with its dependencies, in one readable place.
#include <cstdint>
#include <memory>

#include <eshop/router.hpp>

#include "app/config.hpp"

namespace eshop::app {

class App final {
 public:
  // Opens the databases (running migrations), builds the modules and their routes.
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts the event bus and the HTTP server.
  void start();
  std::uint16_t port() const;
  // Graceful: stops accepting, finishes in-flight requests, drains the bus.
  void stop();
  void run_until_signal();
  const http::Router& router() const;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace eshop::app
