#include "app/app.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <basket/module.hpp>
#include <ordering/module.hpp>
#include <catalog/module.hpp>
#include <discount/module.hpp>
#include <eshop/crypto.hpp>
#include <eshop/outbox.hpp>
#include <eshop/database.hpp>
#include <eshop/problem.hpp>
#include <identity/module.hpp>
#include <spdlog/spdlog.h>

#include "adapters/file_mail_sender.hpp"
#include "adapters/test_payment_provider.hpp"
#include "adapters/test_shipping_provider.hpp"
#include "app/aggregation.hpp"
#include "app/gateway.hpp"
#include "app/logging.hpp"
#include "app/metrics.hpp"
#include "app/module_gates.hpp"
#include "app/modules.hpp"
#include "app/moves.hpp"
#include "app/seams.hpp"
#include "app/switching_bus.hpp"
#include "app/operations.hpp"
#include "net/http_server.hpp"
#include "transport/amqp_bus.hpp"

namespace eshop::app {

namespace {

// A database that cannot be opened is named in the error: the operator must know which file.
std::unique_ptr<Database> open_named(const std::string& location, const DatabaseOptions& options = {}) {
  try {
    return Database::open(location, options);
  } catch (const DatabaseUnavailable& e) {
    throw StartupError(e.what());  // names the URL, without its password
  } catch (const std::exception& e) {
    const auto shown = Database::is_postgresql_url(location) ? without_credentials(location) : location;
    throw StartupError("cannot open the database " + shown + ": " + e.what());
  }
}

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

struct App::Parts final : ModuleHost {
  Config config;
  const std::string instance_id = crypto::new_uuid();
  SystemClock clock;
  Metrics metrics;
  std::unique_ptr<SwitchingBus> bus;
  // The ports' adapters: the test payment provider keeps its own ledger, as a real one would.
  std::unique_ptr<Database> payments_ledger;
  std::unique_ptr<adapters::TestPaymentProvider> default_payments;
  adapters::TestShippingProvider default_shipping;
  std::unique_ptr<adapters::FileMailSender> default_mail;
  Ports ports;
  // Interfaces of modules hosted by other processes, over HTTP.
  std::unique_ptr<identity::Api> remote_identity;
  std::unique_ptr<catalog::Api> remote_catalog;
  std::unique_ptr<discount::Api> remote_discount;
  // The seams other modules are given (metered wrappers of a local module or a remote client);
  // kept for as long as the process runs, as a moved module may still be referred to by them.
  std::vector<std::unique_ptr<catalog::Api>> catalog_seams;
  std::vector<std::unique_ptr<discount::Api>> discount_seams;
  std::unique_ptr<Authenticator> authenticator;
  // The modules this process hosts now, each with its own database and the relay of its outbox.
  // Members in this order: the module goes first, its database last.
  struct Hosted {
    std::unique_ptr<Database> db;
    std::unique_ptr<OutboxRelay> relay;
    std::unique_ptr<Module> module;
  };
  mutable std::mutex hosted_mutex;
  std::map<std::string, Hosted> hosted;
  // Typed views of the hosted modules whose interfaces others call (never moved while running).
  identity::IdentityModule* identity = nullptr;
  catalog::CatalogModule* catalog = nullptr;
  discount::DiscountModule* discount = nullptr;
  std::unique_ptr<ModuleGates> gates;
  std::unique_ptr<Mover> mover;
  // Every router this process built (a module moved in or out): requests still running may use an
  // older one, so none is freed before the process ends. The last is the one in use.
  mutable std::mutex routers_mutex;
  std::vector<std::unique_ptr<http::Router>> routers;
  std::unique_ptr<Gateway> gateway;
  std::unique_ptr<net::HttpServer> server;
  bool running = false;

  ~Parts() override {
    std::lock_guard lock(hosted_mutex);
    for (auto& [name, h] : hosted) h.module.reset();  // modules before any database
  }

  std::filesystem::path file_of(const std::string& module) const { return config.database_of(module); }

  Hosted& hosted_module(const std::string& module) {
    std::lock_guard lock(hosted_mutex);
    const auto it = hosted.find(module);
    if (it == hosted.end()) throw std::logic_error(module + " is not hosted here");
    return it->second;
  }

  // The module, built on its open database with what it depends on.
  std::unique_ptr<Module> build(const std::string& name, Database& db) {
    const auto& c = config;
    if (name == "identity") {
      auto m = identity::make_module({db, clock, identity_settings(c)});
      identity = m.get();
      return m;
    }
    if (name == "catalog") {
      auto m = catalog::make_module({db, clock, {.currency = c.currency, .load_demo_data = c.demo_data}});
      catalog = m.get();
      return m;
    }
    if (name == "discount") {
      auto m = discount::make_module({db, clock, {.load_demo_data = c.demo_data}});
      discount = m.get();
      return m;
    }
    if (name == "basket") {
      catalog_seams.push_back(std::make_unique<MeteredCatalog>(
          catalog ? catalog->api() : *remote_catalog,
          metrics.seam("basket", "catalog", "find_product", catalog ? "local" : "remote")));
      discount_seams.push_back(std::make_unique<MeteredDiscount>(
          discount ? discount->api() : *remote_discount,
          metrics.seam("basket", "discount", "find_coupon", discount ? "local" : "remote")));
      return basket::make_module({db, clock, *catalog_seams.back(), *discount_seams.back(), *ports.payments,
                                  {.currency = c.currency}});
    }
    if (name == "ordering")
      return ordering::make_module({db, clock, *ports.payments, *ports.shipping, *ports.mail,
                                    std::chrono::milliseconds(c.saga_step_delay_ms)});
    throw std::logic_error("no module named " + name);
  }

  // The routes of every hosted module and of the operations, as a new router put in use.
  void rebuild_router() {
    auto router = std::make_unique<http::Router>();
    {
      std::lock_guard lock(hosted_mutex);
      for (const auto& name : module_names())
        if (const auto it = hosted.find(name); it != hosted.end()) it->second.module->register_routes(*router);
    }
    register_operations(*router, {[this] { return health(); }, *bus, metrics, config, *gates,
                                  [this] { return identity_of_process(); }, [this] { return gauges(); }});
    mover->register_routes(*router);
    register_aggregation(*router, [this](const http::Request& parent, std::string target) {
      return gateway->subrequest(parent, std::move(target));
    });
    std::lock_guard lock(routers_mutex);
    routers.push_back(std::move(router));
    if (gateway) gateway->set_router(*routers.back());
  }

  std::vector<std::pair<std::string, HealthCheck>> health() const {
    std::lock_guard lock(hosted_mutex);
    std::vector<std::pair<std::string, HealthCheck>> out;
    for (const auto& name : module_names())
      if (const auto it = hosted.find(name); it != hosted.end()) out.emplace_back(name, it->second.module->check_health());
    return out;
  }

  nlohmann::json gauges() const {
    std::lock_guard lock(hosted_mutex);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, h] : hosted) out[name] = h.module->gauges();
    return out;
  }

  nlohmann::json identity_of_process() const {
    return {{"version", kVersion}, {"instance", instance_id}, {"url", server ? own_url() : std::string()},
            {"busNamespace", config.bus_namespace},
            {"broker", bus_url() == "inproc" ? std::string() : without_credentials(bus_url())},
            {"lastMove", mover->last_move()}};
  }

  // A module declares the event types it handles (ModuleDescriptor::subscriptions), so that a
  // process without it has the broker keep them for it; what it subscribes must be exactly that,
  // or a module in another process would silently miss events. A programming error: refuse to start.
  static void check_declared_subscriptions(const std::string& name, Module& module) {
    std::set<std::string> subscribed, declared;
    for (const auto& [type, handler] : SwitchingBus::handlers_of(module)) subscribed.insert(type);
    for (const auto& type : find_module(name)->subscriptions()) declared.insert(type);
    if (subscribed != declared)
      throw std::logic_error(name + " subscribes to " + nlohmann::json(subscribed).dump() + " but declares " +
                             nlohmann::json(declared).dump() + " in its descriptor");
  }

  // ModuleHost ---------------------------------------------------------------------------------

  void host(const std::string& name) override {
    Hosted h;
    DatabaseOptions options;
    options.schema = name;  // on PostgreSQL its tables live in a schema of its name
    options.commits_ahead = find_module(name)->commits_on_order_path;
    h.db = open_named(config.database_of(name), options);
    h.module = build(name, *h.db);
    check_declared_subscriptions(name, *h.module);
    RelayOptions relay_options;
    for (const auto type : find_module(name)->state_events) relay_options.state_events.emplace(type);
    relay_options.inbox_retention = std::chrono::hours(24 * config.inbox_retention_days);
    h.relay = std::make_unique<OutboxRelay>(*h.db, *bus, name, metrics, relay_options);
    Module& module = *h.module;
    OutboxRelay& relay = *h.relay;
    {
      std::lock_guard lock(hosted_mutex);
      hosted.emplace(name, std::move(h));
    }
    if (running) {
      bus->attach(name, SwitchingBus::handlers_of(module));
      relay.start();
    } else {
      module.subscribe(*bus);
    }
    rebuild_router();
  }

  std::int64_t quiesce(const std::string& module, std::chrono::steady_clock::time_point deadline) override {
    auto& h = hosted_module(module);
    bus->detach(module);  // returns when its running handlers have finished
    // What it published goes to the broker before the copy is made, for as long as the deadline
    // allows; what is left travels in the copy, and the target's relay delivers it.
    h.relay->flush(deadline);
    h.relay->stop();
    return h.relay->backlog();
  }

  void resume(const std::string& module) override {
    auto& h = hosted_module(module);
    try {
      bus->attach(module, SwitchingBus::handlers_of(*h.module));
    } catch (const std::logic_error&) {
      // still attached: quiesce stopped before detaching
    }
    h.relay->start();
  }

  void backup(const std::string& module, const std::string& path) override { hosted_module(module).db->backup_to(path); }

  void unhost(const std::string& module, const std::string& moved_to) override {
    Hosted h;
    {
      std::lock_guard lock(hosted_mutex);
      const auto it = hosted.find(module);
      if (it == hosted.end()) return;
      h = std::move(it->second);
      hosted.erase(it);
    }
    rebuild_router();
    h.module.reset();
    h.relay.reset();
    h.db.reset();  // the last connection closes: the WAL is checkpointed into the file
    // The old copy is kept aside (never served again), and a marker stops a restart with the old
    // flags from serving it as if nothing had happened.
    const auto file = file_of(module);
    std::filesystem::rename(file, file.string() + ".moved");
    for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(file.string() + suffix);
    std::ofstream marker(std::filesystem::path(config.data_dir) / (module + ".moved.json"), std::ios::trunc);
    marker << nlohmann::json{{"module", module}, {"movedTo", moved_to}, {"at", to_rfc3339(clock.now())}}.dump() << "\n";
  }

  bool data_in_file(const std::string& module) const override {
    return !Database::is_postgresql_url(config.database_of(module));
  }

  std::string cannot_host(const std::string& module) const override {
    const auto* d = find_module(module);
    for (const auto& used : d->uses) {
      const std::string u(used);
      bool here = false;
      {
        std::lock_guard lock(hosted_mutex);
        here = hosted.count(u) > 0;
      }
      if (!here && !config.remotes.count(u))
        return "This process cannot host " + module + ": it calls " + u + ", which is neither here nor named by --remote.";
    }
    return {};
  }

  void swap_bus(const std::string& url) override {
    std::unique_ptr<EventBus> next;
    try {
      next = transport::make_amqp_bus({.url = url, .name_space = config.bus_namespace}, metrics);
    } catch (const std::invalid_argument&) {
      throw std::runtime_error("not a usable AMQP URL: " + without_credentials(url));
    }
    if (!next->healthy()) throw std::runtime_error("cannot reach the broker at " + without_credentials(url));
    // The relays pause: each finishes the event in hand (the in-process bus delivers it at once),
    // and what they had not taken waits in the outboxes for the new transport.
    std::vector<OutboxRelay*> relays;
    {
      std::lock_guard lock(hosted_mutex);
      for (auto& [name, h] : hosted) relays.push_back(h.relay.get());
    }
    for (auto* r : relays) r->stop();
    bus->replace(std::move(next), url);
    for (auto* r : relays) r->start();
  }

  std::string bus_url() const override { return bus->url(); }
  std::string data_dir() const override { return config.data_dir; }
  std::string bus_namespace() const override { return config.bus_namespace; }
  std::string instance() const override { return instance_id; }
  std::string own_url() const override {
    const auto& h = config.host;
    const bool any = h.empty() || h == "0.0.0.0" || h == "::" || h == "[::]";
    return "http://" + (any ? std::string("127.0.0.1") : h) + ":" + std::to_string(server->port());
  }
};

App::App(Config config, Ports ports) : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  p.config = std::move(config);
  try {
    std::filesystem::create_directories(p.config.data_dir);
  } catch (const std::exception& e) {
    throw StartupError("cannot create the data directory " + p.config.data_dir + ": " + e.what());
  }
  std::unique_ptr<EventBus> transport;
  if (p.config.bus == "inproc") {
    transport = make_inprocess_bus(p.metrics);
  } else {
    try {
      transport = transport::make_amqp_bus({.url = p.config.bus, .name_space = p.config.bus_namespace}, p.metrics);
    } catch (const std::invalid_argument& e) {
      throw StartupError(std::string("cannot use the event bus: ") + e.what());
    }
  }
  p.bus = std::make_unique<SwitchingBus>(std::move(transport), p.config.bus);

  const auto& c = p.config;
  // A module moved away from this process while it ran: its data lives elsewhere now.
  for (const auto& name : c.modules) {
    const auto marker = std::filesystem::path(c.data_dir) / (name + ".moved.json");
    if (!std::filesystem::exists(marker)) continue;
    std::string to = "another process";
    try {
      std::ifstream in(marker);
      to = nlohmann::json::parse(in).value("movedTo", to);
    } catch (const std::exception&) {
    }
    throw StartupError(name + " was moved to " + to + " while this shop ran (" + marker.string() +
                       "); its data lives there now. Start this process with --remote " + name + "=" + to +
                       " instead, or move it back; delete the marker only if that copy is lost.");
  }
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
    p.default_mail = std::make_unique<adapters::FileMailSender>(mail_dir, "eshop <orders@eshop.local>",
                                                                std::filesystem::path(c.data_dir) / "mail-journal");
    p.ports.mail = p.default_mail.get();
  }

  p.gates = std::make_unique<ModuleGates>(c);
  p.mover = std::make_unique<Mover>(p, *p.gates, kVersion);
  if (c.remotes.count("identity")) p.remote_identity = identity::make_remote(c.remotes.at("identity"));
  if (c.remotes.count("catalog")) p.remote_catalog = catalog::make_remote(c.remotes.at("catalog"));
  if (c.remotes.count("discount")) p.remote_discount = discount::make_remote(c.remotes.at("discount"));
  // Every hosted module, in the list's order (a module's dependencies come before it).
  for (const auto& name : module_names())
    if (c.hosts(name)) p.host(name);
  if (p.routers.empty()) p.rebuild_router();
  // Modules elsewhere: a durable bus keeps their events for them even before they connect.
  for (const auto* module : known_modules())
    if (!c.hosts(std::string(module->name)))
      for (const auto& type : module->subscriptions()) p.bus->expect_subscriber(std::string(module->name), type);
  p.metrics.set_backlog_source([&p] {
    std::vector<std::pair<std::string, std::int64_t>> out;
    std::lock_guard lock(p.hosted_mutex);
    for (const auto& [name, h] : p.hosted) out.emplace_back(name, h.relay->backlog());
    return out;
  });

  // Every process authenticates through identity: here, or over HTTP.
  if (p.identity || p.remote_identity)
    p.authenticator = std::make_unique<MeteredAuthenticator>(
        p.identity ? p.identity->api() : *p.remote_identity,
        p.metrics.seam("gateway", "identity", "authenticate", p.identity ? "local" : "remote"));
  p.gateway = std::make_unique<Gateway>(*p.routers.back(), p.authenticator.get(), p.metrics, p.config.access_log, *p.gates,
                                        c.rate_limits, ClientAddress(c.trusted_proxies, c.forwarded_header),
                                        c.cors_origins);
  net::ServerOptions options;
  options.host = p.config.host;
  options.port = p.config.port;
  options.threads = p.config.threads;
  options.idle_timeout = std::chrono::seconds(p.config.idle_timeout_seconds);
  options.max_connections = p.config.max_connections;
  const Gateway& gateway = *p.gateway;
  // Reads of the modules that answer them from memory (catalog's), liveness, the OpenAPI document
  // and a move's snapshot (a copy in memory, which must not wait behind requests held by that
  // move): the I/O threads answer them at once. Everything else may wait on a database and runs
  // on the worker pool.
  std::vector<std::string> memory_prefixes;
  for (const auto* module : known_modules())
    if (module->answers_reads_from_memory && c.hosts(std::string(module->name)))
      memory_prefixes.push_back(std::string(module->route_prefix) + "/");
  // Writes whose routes say they wait on nothing here (http::Runs: basket's lines, whose commit
  // the handler waits for without holding a thread) run there too.
  auto from_memory = [memory_prefixes, &gateway](const http::Request& r) {
    if (r.method != "GET" && r.method != "HEAD") return gateway.answers_on_io_thread(r);
    const auto path = r.path();
    for (const auto& prefix : memory_prefixes)
      if (path.starts_with(prefix)) return true;
    return path == "/health/live" || path == "/openapi.json" ||
           (path.starts_with("/api/v1/admin/modules/") && path.ends_with("/snapshot"));
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
  {
    std::lock_guard lock(p.hosted_mutex);
    for (auto& [name, h] : p.hosted) h.relay->start();
  }
  try {
    p.server->start();
  } catch (const std::exception& e) {
    throw StartupError("cannot listen on " + p.config.host + ":" + std::to_string(p.config.port) + ": " + e.what());
  }
  p.running = true;
  std::string modules;
  {
    std::lock_guard lock(p.hosted_mutex);
    for (const auto& [name, h] : p.hosted) modules += (modules.empty() ? "" : ",") + name;
  }
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
  {
    std::lock_guard lock(p.hosted_mutex);
    for (auto& [name, h] : p.hosted) h.relay->stop();
  }
  p.bus->stop();
  spdlog::info("\"msg\":\"stopped\"");
  flush_logs();
}

void App::run_until_signal() {
  parts_->server->run_until_signal();
  stop();
}

const http::Router& App::router() const {
  std::lock_guard lock(parts_->routers_mutex);
  return *parts_->routers.back();
}

}  // namespace eshop::app
