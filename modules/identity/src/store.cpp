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

std::optional<UserRecord> find_where(Database& db, const char* column, const std::string& value) {
  return db.read([&](soci::session& sql) -> std::optional<UserRecord> {
    UserRecord u;
    std::string roles;
    soci::indicator ind;
    sql << "SELECT id, email, name, password_hash, roles, created_at, origin FROM users WHERE " << column << " = :v",
        soci::into(u.id, ind), soci::into(u.email), soci::into(u.name), soci::into(u.password_hash),
        soci::into(roles), soci::into(u.created_at), soci::into(u.origin), soci::use(value);
    if (!sql.got_data()) return std::nullopt;
    u.roles = split_roles(roles);
    return u;
  });
}

}  // namespace

std::optional<UserRecord> UserStore::find_by_email(const std::string& email) { return find_where(db_, "email", email); }
std::optional<UserRecord> UserStore::find_by_id(const std::string& id) { return find_where(db_, "id", id); }

bool UserStore::insert(const UserRecord& u) {
  return db_.write([&](soci::session& sql) {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::into(taken), soci::use(u.email);
    if (taken > 0) return false;
    const std::string roles = join_roles(u.roles);
    sql << "INSERT INTO users(id, email, name, password_hash, roles, created_at, origin) "
           "VALUES(:id, :e, :n, :h, :r, :c, :o)",
        soci::use(u.id), soci::use(u.email), soci::use(u.name), soci::use(u.password_hash), soci::use(roles),
        soci::use(u.created_at), soci::use(u.origin);
    return true;
  });
}

void UserStore::update_and_revoke_sessions(const UserRecord& u) {
  db_.write([&](soci::session& sql) {
    const std::string roles = join_roles(u.roles);
    sql << "UPDATE users SET name = :n, password_hash = :h, roles = :r, origin = :o WHERE id = :id", soci::use(u.name),
        soci::use(u.password_hash), soci::use(roles), soci::use(u.origin), soci::use(u.id);
    sql << "DELETE FROM sessions WHERE user_id = :u", soci::use(u.id);
  });
}

void UserStore::insert_session(const SessionRecord& s, const std::string& created_at) {
  db_.write([&](soci::session& sql) {
    const long long expires = s.expires_at;
    sql << "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES(:t, :u, :c, :x)",
        soci::use(s.token_hash), soci::use(s.user_id), soci::use(created_at), soci::use(expires);
  });
}

void UserStore::delete_session(const std::string& token_hash) {
  db_.write([&](soci::session& sql) { sql << "DELETE FROM sessions WHERE token_hash = :t", soci::use(token_hash); });
}

std::vector<SessionRecord> UserStore::live_sessions(std::int64_t now) {
  return db_.write([&](soci::session& sql) {
    const long long t = now;
    sql << "DELETE FROM sessions WHERE expires_at <= :t", soci::use(t);
    std::vector<SessionRecord> out;
    SessionRecord r;
    long long expires = 0;
    soci::statement st = (sql.prepare << "SELECT token_hash, user_id, expires_at FROM sessions",
                          soci::into(r.token_hash), soci::into(r.user_id), soci::into(expires));
    st.execute();
    while (st.fetch()) {
      r.expires_at = expires;
      out.push_back(r);
    }
    return out;
  });
}

}  // namespace eshop::identity
