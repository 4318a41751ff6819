#pragma once
// The composition root: builds every hosted module with its dependencies, in one readable place.
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <eshop/router.hpp>

#include "app/config.hpp"
#include "net/http_server.hpp"

namespace eshop {
class PaymentProvider;
class ShippingProvider;
class MailSender;
}  // namespace eshop

namespace eshop::app {

// Adapters for the ports; each one left null gets the built-in default (test payment provider
// with its ledger in <data-dir>/payments.db, test carrier, .eml files in <data-dir>/mail).
struct Ports {
  PaymentProvider* payments = nullptr;
  ShippingProvider* shipping = nullptr;
  MailSender* mail = nullptr;
};

// The shop cannot start as configured; the message names the file, port or URL at fault.
// `eshop serve` exits with code 2 for it, as for a bad flag or config value.
class StartupError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class App final {
 public:
  // Opens the databases (running migrations), builds the modules and their routes.
  explicit App(Config config, Ports ports = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts the event bus and the HTTP server.
  void start();
  std::uint16_t port() const;
  net::ConnectionStats connections() const;
  // Graceful: stops accepting, finishes in-flight requests, drains the bus.
  void stop();
  void run_until_signal();
  const http::Router& router() const;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace eshop::app
