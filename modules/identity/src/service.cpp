#include "service.hpp"

#include <mutex>

#include <eshop/crypto.hpp>

#include "validation.hpp"

namespace eshop::identity {
namespace {

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

const char* kBadCredentials = "The email or password is incorrect.";

}  // namespace

UserView to_view(const UserRecord& r) { return {UserId{r.id}, r.email, r.name, r.roles}; }

IdentityService::IdentityService(Database& db, const Clock& clock, Settings settings)
    : store_(db), clock_(clock), settings_(std::move(settings)),
      hasher_(settings_.password_ops_limit, settings_.password_mem_limit) {
  for (auto& s : store_.live_sessions(unix_seconds(clock_.now())))
    sessions_.emplace(std::move(s.token_hash), LiveSession{std::move(s.user_id), s.expires_at});
  peers_ = std::make_unique<Listening>(store_.database(), std::string(kSessionsChannel),
                                       [this](const std::string& payload) { peer_changed(payload); });
}

IdentityService::~IdentityService() = default;

// Another instance revoked a session or changed an account: forget what this one cached of it
// (the next request reads the database).
void IdentityService::peer_changed(const std::string& payload) {
  std::unique_lock lock(mutex_);
  if (payload == "*") {
    sessions_.clear();
    users_.clear();
  } else if (payload.starts_with("revoke:")) {
    sessions_.erase(payload.substr(7));
  } else if (payload.starts_with("user:")) {
    const auto id = payload.substr(5);
    std::erase_if(sessions_, [&](const auto& s) { return s.second.user_id == id; });
    users_.erase(id);
  }
}

Result<UserView> IdentityService::register_user(const std::string& raw_email, const std::string& password,
                                                const std::string& raw_name) {
  const auto email = normalize_email(raw_email);
  if (auto errors = validate_registration(email, password, raw_name); !errors.empty())
    return fail(Error::invalid(std::move(errors)));
  if (store_.find_by_email(email)) return fail(Error::conflict("An account with this email already exists."));
  UserRecord user{crypto::new_uuid(), email, trim(raw_name), hasher_.hash(password), {std::string(kCustomerRole)},
                  to_rfc3339(clock_.now())};
  if (!store_.insert(user)) return fail(Error::conflict("An account with this email already exists."));
  return to_view(user);
}

Result<LoginResult> IdentityService::login(const std::string& raw_email, const std::string& password) {
  const auto email = normalize_email(raw_email);
  // Checked before the password: during the wait even the right password is not tried.
  if (const auto wait = guard_.wait_for(email); wait > 0)
    return fail(Error::too_many("Too many failed logins for this account; retry after " + std::to_string(wait) + " s.",
                                wait));
  const auto user = password.size() <= kMaxPasswordBytes ? store_.find_by_email(email) : std::nullopt;
  if (!user) {
    hasher_.verify_dummy(password);
    guard_.failed(email);
    return fail(Error::make(ErrorCode::unauthorized, kBadCredentials));
  }
  if (!hasher_.verify(user->password_hash, password)) {
    guard_.failed(email);
    return fail(Error::make(ErrorCode::unauthorized, kBadCredentials));
  }
  guard_.succeeded(email);

  const auto now = clock_.now();
  const auto expires = now + settings_.token_ttl;
  LoginResult result{crypto::random_token(32), std::chrono::time_point_cast<TimePoint::duration>(expires),
                     to_view(*user)};
  SessionRecord session{crypto::sha256_hex(result.token), user->id, unix_seconds(expires)};
  store_.insert_session(session, to_rfc3339(now));
  std::unique_lock lock(mutex_);
  users_[user->id] = result.user;
  sessions_.emplace(session.token_hash, LiveSession{user->id, session.expires_at});
  return result;
}

void IdentityService::logout(std::string_view bearer_token) {
  const auto hash = crypto::sha256_hex(bearer_token);
  store_.delete_session(hash);
  std::unique_lock lock(mutex_);
  sessions_.erase(hash);
}

AdminOutcome IdentityService::ensure_admin(const std::string& raw_email, const std::string& password,
                                           bool promote_existing) {
  const auto email = normalize_email(raw_email);
  auto user = store_.find_by_email(email);
  if (!user) {
    UserRecord admin{crypto::new_uuid(), email, "Administrator", hasher_.hash(password),
                     {std::string(kAdminRole), std::string(kCustomerRole)}, to_rfc3339(clock_.now()),
                     std::string(kAdminSettingOrigin)};
    store_.insert(admin);
    return AdminOutcome::created;
  }
  const bool is_admin = std::find(user->roles.begin(), user->roles.end(), kAdminRole) != user->roles.end();
  // Whoever registered this address before the setting named it must not become admin by a
  // restart: only an operator's explicit confirmation promotes an account someone else created.
  if (user->origin != kAdminSettingOrigin && !promote_existing) return AdminOutcome::refused;
  AdminOutcome outcome = AdminOutcome::unchanged;
  if (!is_admin) {
    user->roles.emplace_back(kAdminRole);
    outcome = AdminOutcome::promoted;
  }
  if (!hasher_.verify(user->password_hash, password)) {
    user->password_hash = hasher_.hash(password);
    if (outcome == AdminOutcome::unchanged) outcome = AdminOutcome::password_changed;
  }
  if (outcome == AdminOutcome::unchanged) return outcome;
  user->origin = std::string(kAdminSettingOrigin);
  // New rights or a new password: every session opened before is revoked, with the change.
  store_.update_and_revoke_sessions(*user);
  std::unique_lock lock(mutex_);
  std::erase_if(sessions_, [&](const auto& s) { return s.second.user_id == user->id; });
  users_.erase(user->id);
  return outcome;
}

std::optional<UserView> IdentityService::cached_user(const std::string& id) const {
  {
    std::shared_lock lock(mutex_);
    if (auto it = users_.find(id); it != users_.end()) return it->second;
  }
  auto record = store_.find_by_id(id);
  if (!record) return std::nullopt;
  std::unique_lock lock(mutex_);
  return users_[id] = to_view(*record);
}

std::optional<Principal> IdentityService::authenticate(std::string_view bearer_token) const {
  if (bearer_token.empty() || bearer_token.size() > 256) return std::nullopt;
  const auto hash = crypto::sha256_hex(bearer_token);
  std::string user_id;
  bool known = false;
  {
    std::shared_lock lock(mutex_);
    const auto it = sessions_.find(hash);
    if (it != sessions_.end()) {
      if (it->second.expires_at <= unix_seconds(clock_.now())) return std::nullopt;
      user_id = it->second.user_id;
      known = true;
    }
  }
  if (!known) {
    // On SQLite this process opened every live session and knows it; on a shared PostgreSQL
    // database another instance may have opened it a moment ago.
    if (!store_.shared()) return std::nullopt;
    const auto session = store_.find_session(hash);
    if (!session || session->expires_at <= unix_seconds(clock_.now())) return std::nullopt;
    user_id = session->user_id;
    std::unique_lock lock(mutex_);
    sessions_.emplace(hash, LiveSession{session->user_id, session->expires_at});
  }
  const auto user = cached_user(user_id);
  if (!user) return std::nullopt;
  return Principal{user->id, user->email, user->name, user->roles};
}

Result<UserView> IdentityService::find_user(const UserId& id) const {
  if (auto user = cached_user(id.value)) return *user;
  return fail(Error::not_found("No user has this id."));
}

}  // namespace eshop::identity
