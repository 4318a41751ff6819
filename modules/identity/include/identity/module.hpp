#pragma once
// For the composition root only: builds the identity module.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <eshop/clock.hpp>
#include <eshop/database.hpp>
#include <eshop/module.hpp>
#include <identity/api.hpp>

namespace eshop::identity {

struct Settings {
  std::chrono::seconds token_ttl{std::chrono::hours(24)};
  // Argon2id cost: OWASP's minimum for Argon2id is 19 MiB memory with 2 passes.
  unsigned long long password_ops_limit = 2;
  std::size_t password_mem_limit = 19 * 1024 * 1024;
  // When both are set, this account exists at start-up with the admin role.
  std::string admin_email;
  std::string admin_password;
  // An account that registered admin_email itself is promoted only when this is set.
  bool admin_promote_existing = false;
};

struct Deps {
  Database& db;
  const Clock& clock;
  Settings settings;
};

class IdentityModule : public Module {
 public:
  virtual const Api& api() const = 0;
};

std::unique_ptr<IdentityModule> make_module(Deps deps);

// The module's interface over HTTP, against the process at `base_url` (http://host:port) that hosts it.
std::unique_ptr<Api> make_remote(const std::string& base_url);

// The event types this module handles, declared so that a process that does not host it can
// still have a durable transport keep those events for it (EventBus::expect_subscriber).
std::vector<std::string> subscriptions();

// The module's declaration: name, route prefix, what it uses, what it answers from memory.
const ModuleDescriptor& descriptor();

}  // namespace eshop::identity
