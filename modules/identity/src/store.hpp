#pragma once
// identity's tables: users and sessions. No other module reads them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <eshop/database.hpp>

namespace eshop::identity {

struct UserRecord {
  std::string id;
  std::string email;
  std::string name;
  std::string password_hash;
  std::vector<std::string> roles;
  std::string created_at;
  std::string origin = "registration";  // or kAdminSettingOrigin: created by ESHOP_ADMIN_EMAIL
};

inline constexpr std::string_view kAdminSettingOrigin = "admin-setting";

struct SessionRecord {
  std::string token_hash;
  std::string user_id;
  std::int64_t expires_at = 0;  // Unix seconds
};

// Revoked sessions and changed accounts, for the other instances' caches (on a shared PostgreSQL
// database): "revoke:<token hash>" or "user:<id>".
inline constexpr std::string_view kSessionsChannel = "sessions";

class UserStore final {
 public:
  explicit UserStore(Database& db) : db_(db) {}

  std::optional<UserRecord> find_by_email(const std::string& email);
  // A session by its token's hash (another instance may have opened it).
  std::optional<SessionRecord> find_session(const std::string& token_hash);
  bool shared() const { return db_.engine() == Engine::postgresql; }
  Database& database() const { return db_; }
  std::optional<UserRecord> find_by_id(const std::string& id);
  // False when the email is taken.
  bool insert(const UserRecord& user);
  // Saves the account and revokes every session it has, in one transaction.
  void update_and_revoke_sessions(const UserRecord& user);

  void insert_session(const SessionRecord& session, const std::string& created_at);
  void delete_session(const std::string& token_hash);
  // Removes expired sessions and returns the live ones.
  std::vector<SessionRecord> live_sessions(std::int64_t now);

 private:
  Database& db_;
};

std::string join_roles(const std::vector<std::string>& roles);
std::vector<std::string> split_roles(const std::string& text);

}  // namespace eshop::identity
