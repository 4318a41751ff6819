#include "app/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <eshop/database.hpp>
#include <eshop/remote.hpp>

#include "app/client_address.hpp"

namespace eshop::app {

bool Config::hosts(const std::string& module) const {
  return std::find(modules.begin(), modules.end(), module) != modules.end();
}

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item.push_back(c);
    }
  }
  return out;
}

long parse_int(const std::string& text, const char* name, long min, long max) {
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < min || v > max)
    throw std::invalid_argument(std::string(name) + " must be a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", got '" + text + "'");
  return v;
}

void set_remote(Config& c, const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw std::invalid_argument("--remote takes module=URL, got '" + spec + "'");
  c.remotes[spec.substr(0, eq)] = spec.substr(eq + 1);
}

void set_database(Config& c, const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw std::invalid_argument("--db takes module=URL (or all=URL), got '" + spec + "'");
  c.databases[spec.substr(0, eq)] = spec.substr(eq + 1);
}

template <class T>
void read(const nlohmann::json& doc, const char* key, T& out) {
  if (!doc.contains(key)) return;
  try {
    out = doc.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("config key '") + key + "' has the wrong type");
  }
}

}  // namespace

std::string Config::database_of(const std::string& module) const {
  if (const auto it = databases.find(module); it != databases.end()) return it->second;
  if (const auto it = databases.find("all"); it != databases.end()) return it->second;
  return (std::filesystem::path(data_dir) / (module + ".db")).string();
}

void apply_config_json(Config& c, const nlohmann::json& doc) {
  if (!doc.is_object()) throw std::invalid_argument("the config file must hold a JSON object");
  static const std::vector<std::string> known = {"host", "port", "dataDir", "modules", "remotes", "bus",
                                                 "currency", "threads", "logLevel", "accessLog", "demoData",
                                                 "tokenTtlHours", "idleTimeoutSeconds", "passwordHash", "busNamespace",
                                                 "paymentsLedger", "rateLimits", "maxConnections",
                                                 "trustedProxies", "forwardedHeader", "sagaStepDelayMs",
                                                 "corsOrigins", "databases", "inboxRetentionDays"};
  for (const auto& [key, value] : doc.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw std::invalid_argument("unknown config key '" + key + "'");
  read(doc, "host", c.host);
  read(doc, "port", c.port);
  read(doc, "dataDir", c.data_dir);
  read(doc, "modules", c.modules);
  read(doc, "remotes", c.remotes);
  read(doc, "databases", c.databases);
  read(doc, "bus", c.bus);
  read(doc, "busNamespace", c.bus_namespace);
  read(doc, "paymentsLedger", c.payments_ledger);
  if (doc.contains("rateLimits")) {
    const auto& limits = doc.at("rateLimits");
    for (auto [name, limit] : {std::pair{"login", &c.rate_limits.login}, std::pair{"writes", &c.rate_limits.writes},
                               std::pair{"reads", &c.rate_limits.reads}})
      if (limits.contains(name)) {
        read(limits.at(name), "burst", limit->burst);
        read(limits.at(name), "perSecond", limit->per_second);
      }
  }
  read(doc, "currency", c.currency);
  read(doc, "threads", c.threads);
  read(doc, "logLevel", c.log_level);
  read(doc, "accessLog", c.access_log);
  read(doc, "demoData", c.demo_data);
  read(doc, "tokenTtlHours", c.token_ttl_hours);
  read(doc, "inboxRetentionDays", c.inbox_retention_days);
  read(doc, "idleTimeoutSeconds", c.idle_timeout_seconds);
  read(doc, "maxConnections", c.max_connections);
  read(doc, "sagaStepDelayMs", c.saga_step_delay_ms);
  read(doc, "corsOrigins", c.cors_origins);
  read(doc, "trustedProxies", c.trusted_proxies);
  read(doc, "forwardedHeader", c.forwarded_header);
  if (doc.contains("passwordHash")) {
    read(doc.at("passwordHash"), "opsLimit", c.password_ops_limit);
    read(doc.at("passwordHash"), "memoryKiB", c.password_mem_kib);
  }
}

void validate(const Config& c) {
  std::string known;
  for (const auto& name : module_names()) known += (known.empty() ? "" : ", ") + name;
  for (const auto& m : c.modules)
    if (!find_module(m)) throw std::invalid_argument("unknown module '" + m + "' (known: " + known + ")");
  for (const auto& [module, url] : c.remotes) {
    if (!find_module(module)) throw std::invalid_argument("--remote: unknown module '" + module + "'");
    if (c.hosts(module)) throw std::invalid_argument("--remote: " + module + " is hosted here already");
    if (!remote::parse_base_url(url))
      throw std::invalid_argument("--remote " + module + ": the URL must be http://host:port, got '" + url + "'");
  }
  for (const auto& [module, location] : c.databases) {
    if (module != "all" && !find_module(module))
      throw std::invalid_argument("--db: unknown module '" + module + "' (known: " + known + ", or all)");
    if (location.find("://") != std::string::npos && !Database::is_postgresql_url(location))
      throw std::invalid_argument("--db " + module + ": a database is a postgresql:// URL or a SQLite file, got '" +
                                  location + "'");
  }
  // A module's synchronous dependencies (its declared `uses`) must be reachable: here, or remote.
  auto reachable = [&](std::string_view m) { return c.hosts(std::string(m)) || c.remotes.count(std::string(m)); };
  for (const auto& m : c.modules) {
    const auto& uses = find_module(m)->uses;
    if (std::all_of(uses.begin(), uses.end(), reachable)) continue;
    std::string needs;
    for (std::size_t i = 0; i < uses.size(); ++i)
      needs += std::string(i == 0 ? "" : i + 1 == uses.size() ? " and " : ", ") + std::string(uses[i]);
    throw std::invalid_argument(m + " needs " + needs + ": host them here or name them with --remote");
  }
  // No module at all is a process waiting to adopt one (a move's target): it needs a broker.
  if (c.modules.empty() && c.bus == "inproc")
    throw std::invalid_argument("--modules none (a process that hosts modules only by adopting them) needs --bus amqp://...");
  if (c.bus != "inproc" && !c.bus.starts_with("amqp://"))
    throw std::invalid_argument("--bus must be inproc or an amqp://user:pass@host:port/vhost URL");
  if (c.bus_namespace.empty() || c.bus_namespace.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    throw std::invalid_argument("busNamespace must be lower-case letters, digits, '-' or '_'");
  if (c.currency.size() != 3 || !std::all_of(c.currency.begin(), c.currency.end(), ::isupper))
    throw std::invalid_argument("currency must be an ISO 4217 code such as USD");
  static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), c.log_level) == levels.end())
    throw std::invalid_argument("log level must be one of trace, debug, info, warn, error, critical, off");
  if (c.threads < 0 || c.threads > 256) throw std::invalid_argument("threads must be 0 (one per core) to 256");
  if (c.token_ttl_hours < 1) throw std::invalid_argument("tokenTtlHours must be at least 1");
  if (c.inbox_retention_days < 1 || c.inbox_retention_days > 3650)
    throw std::invalid_argument("inboxRetentionDays must be 1 to 3650");
  if (c.idle_timeout_seconds < 1) throw std::invalid_argument("idleTimeoutSeconds must be at least 1");
  if (c.password_ops_limit < 1 || c.password_mem_kib < 8) throw std::invalid_argument("passwordHash is too weak");
  if (c.saga_step_delay_ms < 0 || c.saga_step_delay_ms > 60000)
    throw std::invalid_argument("sagaStepDelayMs must be 0 (off) to 60000");
  if (c.max_connections < 0 || c.max_connections > 1000000)
    throw std::invalid_argument("maxConnections must be 0 (from the fd limit) to 1000000");
  for (const auto& proxy : c.trusted_proxies)
    if (!parse_network(proxy))
      throw std::invalid_argument("trustedProxies: '" + proxy + "' is not an IP address or a CIDR network");
  for (const auto& origin : c.cors_origins)
    if (origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")))
      throw std::invalid_argument("corsOrigins: '" + origin + "' is not an origin such as https://shop.example, or *");
  if (c.forwarded_header != "X-Forwarded-For" && c.forwarded_header != "Forwarded")
    throw std::invalid_argument("forwardedHeader must be X-Forwarded-For or Forwarded");
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
}

std::variant<Config, int> parse_command_line(int argc, const char* const* argv, const EnvLookup& env) {
  CLI::App cli{"eshop: an e-commerce backend, a modular monolith with pluggable transport seams."};
  cli.set_version_flag("--version", kVersion);
  cli.require_subcommand(1);
  cli.footer(
      "Options of serve (details: eshop serve --help):\n"
      "  --config FILE  --host ADDR  --port N  --data-dir DIR  --modules a,b  --remote module=URL\n"
      "  --bus inproc|amqp://...  --bus-namespace NAME  --threads N  --log-level L  --currency XXX\n"
      "  --demo-data true|false  --max-connections N  --trusted-proxies a,b  --saga-step-delay-ms N\n"
      "  --cors-origins a,b  --db module=postgresql://...|all=postgresql://...\n"
      "Each also from an ESHOP_* variable (ESHOP_PORT, ESHOP_DATA_DIR, ...) or the config file.\n"
      "Precedence: flags > ESHOP_* environment > config file > built-in defaults.");
  auto* serve = cli.add_subcommand("serve", "Serve the shop's HTTP API (all modules, SQLite, in-process bus).");
  serve->footer(
      "Precedence: flags > ESHOP_* environment > config file > built-in defaults.\n"
      "ESHOP_ADMIN_EMAIL and ESHOP_ADMIN_PASSWORD create an admin account at start-up; an account that\n"
      "registered that address itself is made admin only with ESHOP_ADMIN_PROMOTE_EXISTING=true.");

  std::string config_file, host, port, data_dir, modules, bus, bus_namespace, threads, log_level, currency, demo_data,
      max_connections, trusted_proxies, saga_step_delay, cors_origins;
  std::vector<std::string> remotes, databases;
  struct Flag {
    const char* name;
    std::string* holder;
    const char* env;
    const char* help;
  };
  const Flag flags[] = {
      {"--config", &config_file, "ESHOP_CONFIG", "JSON config file (default: config/default.json if present)"},
      {"--host", &host, "ESHOP_HOST", "address to listen on (default 0.0.0.0)"},
      {"--port", &port, "ESHOP_PORT", "port to listen on, 0 for any free one (default 8080)"},
      {"--data-dir", &data_dir, "ESHOP_DATA_DIR", "directory of the module databases (default ./data)"},
      {"--modules", &modules, "ESHOP_MODULES", "comma-separated modules this process hosts (default: all; none: only what moves in)"},
      {"--bus", &bus, "ESHOP_BUS", "event transport: inproc (default) or amqp://user:pass@host:port/vhost"},
      {"--bus-namespace", &bus_namespace, "ESHOP_BUS_NAMESPACE", "AMQP exchange and queue prefix (default eshop)"},
      {"--threads", &threads, "ESHOP_THREADS", "I/O threads, 0 for one per core (default 0)"},
      {"--log-level", &log_level, "ESHOP_LOG_LEVEL", "trace, debug, info, warn, error or off (default info)"},
      {"--currency", &currency, "ESHOP_CURRENCY", "ISO 4217 currency of all prices (default USD)"},
      {"--demo-data", &demo_data, "ESHOP_DEMO_DATA", "true or false: load the demo catalog on first start"},
      {"--max-connections", &max_connections, "ESHOP_MAX_CONNECTIONS",
       "open connections at most, more are closed at once (default 0: the fd limit less 128)"},
      {"--saga-step-delay-ms", &saga_step_delay, "ESHOP_SAGA_STEP_DELAY_MS",
       "slow motion for a demonstration: each saga step waits this long (default 0: off)"},
      {"--cors-origins", &cors_origins, "ESHOP_CORS_ORIGINS",
       "comma-separated browser origins allowed to call the API, or * (default: none, same-origin only)"},
      {"--trusted-proxies", &trusted_proxies, "ESHOP_TRUSTED_PROXIES",
       "comma-separated addresses or CIDR networks whose X-Forwarded-For is believed (default: none)"},
  };
  std::vector<std::pair<CLI::Option*, const Flag*>> options;
  for (const auto& f : flags) options.emplace_back(serve->add_option(f.name, *f.holder, f.help), &f);
  auto* remote_opt = serve->add_option("--remote", remotes, "module=URL: a module hosted by another process");
  auto* db_opt = serve->add_option(
      "--db", databases,
      "module=DATABASE: a postgresql://user@host:port/db URL or a SQLite file; all=URL for every module "
      "(default: DATA_DIR/<module>.db). Also ESHOP_DB=module=URL,... and the config key databases");
  // CLI11 reads the environment itself; route it through `env` so tests can inject one.
  for (auto& [opt, f] : options)
    if (auto v = env(f->env)) *f->holder = *v;

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  try {
    Config c;
    std::string file = config_file;
    if (file.empty() && !env("ESHOP_CONFIG") && std::ifstream("config/default.json")) file = "config/default.json";
    if (!file.empty()) {
      std::ifstream in(file);
      if (!in) throw std::invalid_argument("cannot read config file " + file);
      apply_config_json(c, nlohmann::json::parse(in));
    }
    auto given = [](const std::string& holder) { return !holder.empty(); };
    if (given(host)) c.host = host;
    if (given(port)) c.port = static_cast<std::uint16_t>(parse_int(port, "port", 0, 65535));
    if (given(data_dir)) c.data_dir = data_dir;
    if (given(modules)) c.modules = modules == "none" ? std::vector<std::string>{} : split_list(modules);
    if (given(bus)) c.bus = bus;
    if (given(bus_namespace)) c.bus_namespace = bus_namespace;
    if (given(threads)) c.threads = static_cast<int>(parse_int(threads, "threads", 0, 256));
    if (given(log_level)) c.log_level = log_level;
    if (given(currency)) c.currency = currency;
    if (given(max_connections))
      c.max_connections = static_cast<int>(parse_int(max_connections, "max-connections", 0, 1000000));
    if (given(trusted_proxies)) c.trusted_proxies = split_list(trusted_proxies);
    if (given(cors_origins)) c.cors_origins = split_list(cors_origins);
    if (given(saga_step_delay))
      c.saga_step_delay_ms = static_cast<int>(parse_int(saga_step_delay, "saga-step-delay-ms", 0, 60000));
    if (given(demo_data)) {
      if (demo_data != "true" && demo_data != "false") throw std::invalid_argument("--demo-data takes true or false");
      c.demo_data = demo_data == "true";
    }
    if (remote_opt->count()) {
      c.remotes.clear();
      for (const auto& r : remotes) set_remote(c, r);
    }
    if (db_opt->count()) {
      c.databases.clear();
      for (const auto& d : databases) set_database(c, d);
    } else if (const auto from_env = env("ESHOP_DB")) {
      c.databases.clear();
      for (const auto& d : split_list(*from_env)) set_database(c, d);
    }
    c.admin_email = env("ESHOP_ADMIN_EMAIL").value_or("");
    c.admin_password = env("ESHOP_ADMIN_PASSWORD").value_or("");
    if (const auto promote = env("ESHOP_ADMIN_PROMOTE_EXISTING")) {
      if (*promote != "true" && *promote != "false")
        throw std::invalid_argument("ESHOP_ADMIN_PROMOTE_EXISTING takes true or false");
      c.admin_promote_existing = *promote == "true";
    }
    validate(c);
    return c;
  } catch (const std::exception& e) {
    std::cerr << "eshop: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace eshop::app
