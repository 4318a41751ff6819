#pragma once
// identity's use cases: register, login, logout, and resolving tokens.
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <eshop/clock.hpp>
#include <identity/api.hpp>
#include <identity/module.hpp>

#include "login_guard.hpp"
#include "password.hpp"
#include "store.hpp"

namespace eshop::identity {

enum class AdminOutcome { created, unchanged, promoted, password_changed, refused };

struct LoginResult {
  std::string token;
  TimePoint expires_at;
  UserView user;
};

class IdentityService final : public Api {
 public:
  IdentityService(Database& db, const Clock& clock, Settings settings);
  ~IdentityService() override;

  Result<UserView> register_user(const std::string& email, const std::string& password, const std::string& name);
  Result<LoginResult> login(const std::string& email, const std::string& password);
  void logout(std::string_view bearer_token);
  // Creates the configured admin account, or makes sure it has the admin role and password. An
  // account that registered itself is promoted only with `promote_existing`; a promotion or a new
  // password revokes all of the account's sessions.
  AdminOutcome ensure_admin(const std::string& email, const std::string& password, bool promote_existing);

  std::optional<Principal> authenticate(std::string_view bearer_token) const override;
  // On SQLite this process opened every live session and holds it in memory.
  bool answers_from_memory() const override { return !store_.shared(); }
  Result<UserView> find_user(const UserId& id) const override;

 private:
  struct LiveSession {
    std::string user_id;
    std::int64_t expires_at;
  };
  std::optional<UserView> cached_user(const std::string& id) const;
  void peer_changed(const std::string& payload);

  mutable UserStore store_;
  const Clock& clock_;
  Settings settings_;
  PasswordHasher hasher_;
  LoginGuard guard_{clock_};
  // Live sessions by token hash, and the users they belong to: token checks never touch the disk
  // (on a PostgreSQL database shared by instances, a session opened elsewhere is read once).
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, LiveSession> sessions_;
  mutable std::unordered_map<std::string, UserView> users_;
  std::unique_ptr<Listening> peers_;  // last: gone before anything its handler uses
};

UserView to_view(const UserRecord& record);

}  // namespace eshop::identity
