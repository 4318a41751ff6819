#include "store.hpp"

namespace eshop::identity {

std::string join_roles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

std::vector<std::string> split_roles(const std::string& text) {
  std::vector<std::string> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (comma != 0) out.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

std::optional<UserRecord> find_where(Database& db, const std::string& sql, const std::string& value) {
  return db.read([&](Tx& tx) -> std::optional<UserRecord> {
    auto& q = tx.statement(sql);
    q.bind(1, value);
    if (!q.next()) return std::nullopt;
    UserRecord u;
    u.id = q.text(0);
    u.email = q.text(1);
    u.name = q.text(2);
    u.password_hash = q.text(3);
    u.roles = split_roles(q.text(4));
    u.created_at = q.text(5);
    u.origin = q.text(6);
    return u;
  });
}

constexpr const char* kUserColumns = "SELECT id, email, name, password_hash, roles, created_at, origin FROM users ";

}  // namespace

std::optional<UserRecord> UserStore::find_by_email(const std::string& email) {
  static const std::string sql = std::string(kUserColumns) + "WHERE email = ?1";
  return find_where(db_, sql, email);
}
std::optional<UserRecord> UserStore::find_by_id(const std::string& id) {
  static const std::string sql = std::string(kUserColumns) + "WHERE id = ?1";
  return find_where(db_, sql, id);
}

bool UserStore::insert(const UserRecord& u) {
  return db_.write([&](Tx& tx) {
    auto& taken = tx.statement("SELECT 1 FROM users WHERE email = ?1");
    taken.bind(1, u.email);
    if (taken.next()) return false;
    tx.statement("INSERT INTO users(id, email, name, password_hash, roles, created_at, origin) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, u.id)
        .bind(2, u.email)
        .bind(3, u.name)
        .bind(4, u.password_hash)
        .bind(5, join_roles(u.roles))
        .bind(6, u.created_at)
        .bind(7, u.origin)
        .run();
    return true;
  });
}

std::optional<SessionRecord> UserStore::find_session(const std::string& token_hash) {
  return db_.read([&](Tx& tx) -> std::optional<SessionRecord> {
    auto& q = tx.statement("SELECT token_hash, user_id, expires_at FROM sessions WHERE token_hash = ?1");
    q.bind(1, token_hash);
    if (!q.next()) return std::nullopt;
    return SessionRecord{q.text(0), q.text(1), q.int64(2)};
  });
}

void UserStore::update_and_revoke_sessions(const UserRecord& u) {
  db_.write([&](Tx& tx) {
    tx.notify(kSessionsChannel, "user:" + u.id);
    tx.statement("UPDATE users SET name = ?1, password_hash = ?2, roles = ?3, origin = ?4 WHERE id = ?5")
        .bind(1, u.name)
        .bind(2, u.password_hash)
        .bind(3, join_roles(u.roles))
        .bind(4, u.origin)
        .bind(5, u.id)
        .run();
    tx.statement("DELETE FROM sessions WHERE user_id = ?1").bind(1, u.id).run();
  });
}

void UserStore::insert_session(const SessionRecord& s, const std::string& created_at) {
  db_.write([&](Tx& tx) {
    tx.statement("INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES(?1, ?2, ?3, ?4)")
        .bind(1, s.token_hash)
        .bind(2, s.user_id)
        .bind(3, created_at)
        .bind(4, s.expires_at)
        .run();
  });
}

void UserStore::delete_session(const std::string& token_hash) {
  db_.write([&](Tx& tx) {
    tx.statement("DELETE FROM sessions WHERE token_hash = ?1").bind(1, token_hash).run();
    tx.notify(kSessionsChannel, "revoke:" + token_hash);
  });
}

std::vector<SessionRecord> UserStore::live_sessions(std::int64_t now) {
  return db_.write([&](Tx& tx) {
    tx.statement("DELETE FROM sessions WHERE expires_at <= ?1").bind(1, now).run();
    std::vector<SessionRecord> out;
    auto& q = tx.statement("SELECT token_hash, user_id, expires_at FROM sessions");
    while (q.next()) out.push_back({q.text(0), q.text(1), q.int64(2)});
    return out;
  });
}

}  // namespace eshop::identity
