#include "app/app.hpp"

#include <filesystem>
#include <map>

#include <basket/module.hpp>
#include <ordering/module.hpp>
#include <catalog/module.hpp>
#include <discount/module.hpp>
#include <eshop/outbox.hpp>
#include <eshop/database.hpp>
#include <eshop/problem.hpp>
#include <identity/module.hpp>
#include <spdlog/spdlog.h>

#include "adapters/file_mail_sender.hpp"
#include "adapters/test_payment_provider.hpp"
#include "adapters/test_shipping_provider.hpp"
#include "app/gateway.hpp"
#include "app/logging.hpp"
#include "app/metrics.hpp"
#include "app/modules.hpp"
#include "app/operations.hpp"
#include "net/http_server.hpp"
#include "transport/amqp_bus.hpp"

namespace eshop::app {

namespace {

// A database that cannot be opened is named in the error: the operator must know which file.
std::unique_ptr<Database> open_named(const std::string& path) {
  try {
    return Database::open(path);
  } catch (const std::exception& e) {
    throw StartupError("cannot open the database " + path + ": " + e.what());
  }
}

}  // namespace

struct App::Parts {
  Config config;
  SystemClock clock;
  Metrics metrics;
  std::unique_ptr<EventBus> bus;
  std::vector<std::unique_ptr<Database>> databases;
  // The ports' adapters: the test payment provider keeps its own ledger, as a real one would.
  std::unique_ptr<Database> payments_ledger;
  std::unique_ptr<adapters::TestPaymentProvider> default_payments;
  adapters::TestShippingProvider default_shipping;
  std::unique_ptr<adapters::FileMailSender> default_mail;
  Ports ports;
  std::unique_ptr<identity::IdentityModule> identity;
  std::unique_ptr<catalog::CatalogModule> catalog;
  std::unique_ptr<discount::DiscountModule> discount;
  std::unique_ptr<Module> basket;
  std::unique_ptr<Module> ordering;
  // Interfaces of modules hosted by other processes, over HTTP.
  std::unique_ptr<identity::Api> remote_identity;
  std::unique_ptr<catalog::Api> remote_catalog;
  std::unique_ptr<discount::Api> remote_discount;
  std::vector<Module*> modules;
  std::vector<std::unique_ptr<OutboxRelay>> relays;  // one per module database
  http::Router router;
  std::unique_ptr<Gateway> gateway;
  std::unique_ptr<net::HttpServer> server;
  bool running = false;

  // The module's own database, with its outbox and a relay that delivers it to the bus.
  Database& open_database(const std::string& module) {
    const auto path = std::filesystem::path(config.data_dir) / (module + ".db");
    databases.push_back(open_named(path.string()));
    relays.push_back(std::make_unique<OutboxRelay>(*databases.back(), *bus, module, metrics));
    return *databases.back();
  }
};

namespace {

identity::Settings identity_settings(const Config& c) {
  identity::Settings s;
  s.token_ttl = std::chrono::hours(c.token_ttl_hours);
  s.password_ops_limit = c.password_ops_limit;
  s.password_mem_limit = c.password_mem_kib * 1024;
  s.admin_email = c.admin_email;
  s.admin_password = c.admin_password;
  s.admin_promote_existing = c.admin_promote_existing;
  return s;
}

}  // namespace

App::App(Config config, Ports ports) : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  p.config = std::move(config);
  try {
    std::filesystem::create_directories(p.config.data_dir);
  } catch (const std::exception& e) {
    throw StartupError("cannot create the data directory " + p.config.data_dir + ": " + e.what());
  }
  if (p.config.bus == "inproc") {
    p.bus = make_inprocess_bus(p.metrics);
  } else {
    try {
      p.bus = transport::make_amqp_bus({.url = p.config.bus, .name_space = p.config.bus_namespace}, p.metrics);
    } catch (const std::invalid_argument& e) {
      throw StartupError(std::string("cannot use the event bus: ") + e.what());
    }
  }

  const auto& c = p.config;
  p.ports = ports;
  if (!p.ports.payments) {
    p.payments_ledger = open_named(
        c.payments_ledger.empty() ? (std::filesystem::path(c.data_dir) / "payments.db").string() : c.payments_ledger);
    p.default_payments = std::make_unique<adapters::TestPaymentProvider>(*p.payments_ledger);
    p.ports.payments = p.default_payments.get();
  }
  if (!p.ports.shipping) p.ports.shipping = &p.default_shipping;
  if (!p.ports.mail) {
    const auto mail_dir = std::filesystem::path(c.data_dir) / "mail";
    std::filesystem::create_directories(mail_dir);  // now, with the process's modes, not at the first order
    p.default_mail = std::make_unique<adapters::FileMailSender>(mail_dir, "eshop <orders@eshop.local>");
    p.ports.mail = p.default_mail.get();
  }

  // Every module, its database and its dependencies, in one list.
  if (c.hosts("identity"))
    p.identity = identity::make_module({p.open_database("identity"), p.clock, identity_settings(c)});
  if (c.hosts("catalog"))
    p.catalog = catalog::make_module(
        {p.open_database("catalog"), p.clock, {.currency = c.currency, .load_demo_data = c.demo_data}});
  if (c.hosts("discount"))
    p.discount = discount::make_module({p.open_database("discount"), p.clock, {.load_demo_data = c.demo_data}});
  if (c.remotes.count("identity")) p.remote_identity = identity::make_remote(c.remotes.at("identity"));
  if (c.remotes.count("catalog")) p.remote_catalog = catalog::make_remote(c.remotes.at("catalog"));
  if (c.remotes.count("discount")) p.remote_discount = discount::make_remote(c.remotes.at("discount"));
  if (c.hosts("basket"))
    p.basket = basket::make_module({p.open_database("basket"), p.clock,
                                    p.catalog ? p.catalog->api() : *p.remote_catalog,
                                    p.discount ? p.discount->api() : *p.remote_discount, *p.ports.payments,
                                    {.currency = c.currency}});
  if (c.hosts("ordering"))
    p.ordering = ordering::make_module(
        {p.open_database("ordering"), p.clock, *p.ports.payments, *p.ports.shipping, *p.ports.mail,
         std::chrono::milliseconds(c.saga_step_delay_ms)});

  for (Module* m : {static_cast<Module*>(p.identity.get()), static_cast<Module*>(p.catalog.get()),
                    static_cast<Module*>(p.discount.get()), p.basket.get(), p.ordering.get()})
    if (m) p.modules.push_back(m);
  for (Module* m : p.modules) {
    m->register_routes(p.router);
    m->subscribe(*p.bus);
  }
  // Modules elsewhere: a durable bus keeps their events for them even before they connect.
  for (const auto* module : known_modules())
    if (!c.hosts(std::string(module->name)))
      for (const auto& type : module->subscriptions()) p.bus->expect_subscriber(std::string(module->name), type);
  register_operations(p.router, {p.modules, *p.bus, p.metrics, p.config});
  p.metrics.set_backlog_source([&p] {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& r : p.relays) out.emplace_back(r->module(), r->backlog());
    return out;
  });

  const Authenticator* authenticator = p.identity ? &p.identity->api() : p.remote_identity.get();
  std::vector<RemoteRoute> remote_routes;
  for (const auto& [module, url] : c.remotes) remote_routes.push_back({module, url, std::string(path_prefix(module))});
  p.gateway = std::make_unique<Gateway>(p.router, authenticator, p.metrics, p.config.access_log, remote_routes,
                                        c.rate_limits, ClientAddress(c.trusted_proxies, c.forwarded_header),
                                        c.cors_origins);
  net::ServerOptions options;
  options.host = p.config.host;
  options.port = p.config.port;
  options.threads = p.config.threads;
  options.idle_timeout = std::chrono::seconds(p.config.idle_timeout_seconds);
  options.max_connections = p.config.max_connections;
  const Gateway& gateway = *p.gateway;
  // Reads of the modules that answer them from memory (catalog's), liveness and the OpenAPI
  // document: the I/O threads answer them at once. Everything else may wait on a database and runs
  // on the worker pool.
  std::vector<std::string> memory_prefixes;
  for (const auto* module : known_modules())
    if (module->answers_reads_from_memory && c.hosts(std::string(module->name)))
      memory_prefixes.push_back(std::string(module->route_prefix) + "/");
  auto from_memory = [memory_prefixes](const http::Request& r) {
    if (r.method != "GET" && r.method != "HEAD") return false;
    const auto path = r.path();
    for (const auto& prefix : memory_prefixes)
      if (path.starts_with(prefix)) return true;
    return path == "/health/live" || path == "/openapi.json";
  };
  p.server = std::make_unique<net::HttpServer>(
      options, [&gateway](http::Request& r) { return gateway.handle(r); },
      [&gateway](int status, std::string detail, const std::string& peer) {
        return gateway.reject(status, std::move(detail), peer);
      },
      from_memory);
  p.metrics.set_connection_source([server = p.server.get()] { return server->connections(); });
}

App::~App() { stop(); }

void App::start() {
  auto& p = *parts_;
  p.bus->start();
  for (auto& r : p.relays) r->start();
  try {
    p.server->start();
  } catch (const std::exception& e) {
    throw StartupError("cannot listen on " + p.config.host + ":" + std::to_string(p.config.port) + ": " + e.what());
  }
  p.running = true;
  std::string modules;
  for (const auto* m : p.modules) modules += (modules.empty() ? "" : ",") + std::string(m->name());
  spdlog::info("\"msg\":\"listening\",\"host\":{},\"port\":{},\"modules\":{},\"dataDir\":{},\"bus\":{}",
               json_quote(p.config.host), p.server->port(), json_quote(modules), json_quote(p.config.data_dir),
               json_quote(p.bus->transport()));
  flush_logs();
}

std::uint16_t App::port() const { return parts_->server->port(); }
net::ConnectionStats App::connections() const { return parts_->server->connections(); }

void App::stop() {
  auto& p = *parts_;
  if (!p.running) return;
  p.running = false;
  p.server->stop();
  for (auto& r : p.relays) r->stop();
  p.bus->stop();
  spdlog::info("\"msg\":\"stopped\"");
  flush_logs();
}

void App::run_until_signal() {
  parts_->server->run_until_signal();
  stop();
}

const http::Router& App::router() const { return parts_->router; }

}  // namespace eshop::app
