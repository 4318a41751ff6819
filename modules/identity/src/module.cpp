#include <identity/module.hpp>

#include <eshop/json_body.hpp>
#include <eshop/problem.hpp>

#include <spdlog/spdlog.h>

#include "service.hpp"

namespace eshop::identity {

std::span<const Migration> migrations();  // generated from migrations/identity

namespace {

nlohmann::ordered_json user_json(const UserView& u) {
  return {{"id", u.id.value}, {"email", u.email}, {"name", u.name}, {"roles", u.roles}};
}

class Handlers final {
 public:
  explicit Handlers(IdentityService& service) : service_(service) {}

  http::Response register_user(http::Request& req) const {
    auto body = http::json_object_body(req);
    if (!body) return http::problem(body.error());
    http::FieldReader in(*body);
    const auto email = in.string("email", true);
    const auto password = in.string("password", true);
    const auto name = in.string("name", true);
    if (!in.ok()) return http::problem(in.to_error());
    auto user = service_.register_user(*email, *password, *name);
    if (!user) return http::problem(user.error());
    auto res = http::Response::json(201, nlohmann::ordered_json{{"id", user->id.value}, {"email", user->email}, {"name", user->name}});
    res.headers.add("Location", "/api/v1/identity/me");
    return res;
  }

  http::Response login(http::Request& req) const {
    auto body = http::json_object_body(req);
    if (!body) return http::problem(body.error());
    http::FieldReader in(*body);
    const auto email = in.string("email", true);
    const auto password = in.string("password", true);
    if (!in.ok()) return http::problem(in.to_error());
    auto result = service_.login(*email, *password);
    if (!result) return http::problem(result.error());
    return http::Response::json(200, nlohmann::ordered_json{{"token", result->token},
                                                    {"expiresAt", to_rfc3339(result->expires_at)},
                                                    {"user", user_json(result->user)}});
  }

  http::Response logout(http::Request& req) const {
    service_.logout(http::bearer_token(req));
    return http::Response::no_content();
  }

  http::Response me(http::Request& req) const {
    auto user = service_.find_user(req.user->id);
    if (!user) return http::problem(user.error());
    return http::Response::json(200, user_json(*user));
  }

 private:
  IdentityService& service_;
};

void log_admin_outcome(const std::string& email, AdminOutcome outcome) {
  const auto who = nlohmann::json(email).dump();
  switch (outcome) {
    case AdminOutcome::created:
      spdlog::info("\"msg\":\"admin account created\",\"email\":{}", who);
      break;
    case AdminOutcome::unchanged: break;
    case AdminOutcome::promoted:
      spdlog::warn("\"msg\":\"existing account promoted to admin as confirmed by ESHOP_ADMIN_PROMOTE_EXISTING; its "
                   "password is now ESHOP_ADMIN_PASSWORD and its sessions are revoked\",\"email\":{}",
                   who);
      break;
    case AdminOutcome::password_changed:
      spdlog::info("\"msg\":\"admin password changed to ESHOP_ADMIN_PASSWORD; the admin's sessions are revoked\","
                   "\"email\":{}",
                   who);
      break;
    case AdminOutcome::refused:
      spdlog::error("\"msg\":\"NOT making ESHOP_ADMIN_EMAIL an admin: that account was registered through the API, "
                    "not created by this setting. If it is yours, restart with ESHOP_ADMIN_PROMOTE_EXISTING=true "
                    "(its password becomes ESHOP_ADMIN_PASSWORD and its sessions are revoked)\",\"email\":{}",
                    who);
      break;
  }
}

class IdentityModuleImpl final : public IdentityModule {
 public:
  explicit IdentityModuleImpl(Deps deps) : db_(deps.db) {
    db_.migrate(migrations());
    service_ = std::make_unique<IdentityService>(deps.db, deps.clock, deps.settings);
    if (!deps.settings.admin_email.empty() && !deps.settings.admin_password.empty())
      log_admin_outcome(deps.settings.admin_email,
                        service_->ensure_admin(deps.settings.admin_email, deps.settings.admin_password,
                                               deps.settings.admin_promote_existing));
    handlers_ = std::make_unique<Handlers>(*service_);
  }

  std::string_view name() const override { return descriptor().name; }
  const Api& api() const override { return *service_; }

  void register_routes(http::Router& router) override {
    auto r = router.scope("identity");
    const Handlers& h = *handlers_;
    r.post("/api/v1/identity/register", http::Access::anyone, [&h](http::Request& q) { return h.register_user(q); },
           http::Throttle::login);
    r.post("/api/v1/identity/login", http::Access::anyone, [&h](http::Request& q) { return h.login(q); },
           http::Throttle::login);
    r.post("/api/v1/identity/logout", http::Access::user, [&h](http::Request& q) { return h.logout(q); });
    r.get("/api/v1/identity/me", http::Access::user, [&h](http::Request& q) { return h.me(q); });
  }

  void subscribe(EventBus&) override {}  // identity reacts to no events yet

  HealthCheck check_health() const override { return database_health(db_); }

 private:
  Database& db_;
  std::unique_ptr<IdentityService> service_;
  std::unique_ptr<Handlers> handlers_;
};

}  // namespace

std::unique_ptr<IdentityModule> make_module(Deps deps) { return std::make_unique<IdentityModuleImpl>(std::move(deps)); }

std::vector<std::string> subscriptions() { return {}; }

const ModuleDescriptor& descriptor() {
  static const ModuleDescriptor d{"identity", "/api/v1/identity", {}, false, &subscriptions,
                                  /*movable_live=*/false};
  return d;
}

}  // namespace eshop::identity
