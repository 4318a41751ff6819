// identity::Api over HTTP, for a process where identity runs elsewhere: a token is checked by
// asking identity who it belongs to (GET /api/v1/identity/me). Answers are kept for a few
// seconds so a burst of requests with one token costs one call; a logout elsewhere therefore
// takes effect here within that time.
#include <chrono>
#include <mutex>
#include <unordered_map>

#include <eshop/crypto.hpp>
#include <eshop/remote.hpp>
#include <identity/module.hpp>

namespace eshop::identity {
namespace {

constexpr auto kCacheFor = std::chrono::seconds(5);

class RemoteIdentity final : public Api {
 public:
  explicit RemoteIdentity(remote::Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  std::optional<Principal> authenticate(std::string_view token) const override {
    if (token.empty() || token.size() > 256) return std::nullopt;
    const auto key = crypto::sha256_hex(token);
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      if (auto it = cache_.find(key); it != cache_.end() && it->second.until > now) return it->second.principal;
    }
    auto body = remote::get_json(endpoint_, "identity", "/api/v1/identity/me", std::string(token));
    std::optional<Principal> principal;
    if (body)
      principal = Principal{UserId{body->at("id").get<std::string>()}, body->at("email").get<std::string>(),
                            body->at("name").get<std::string>(), body->at("roles").get<std::vector<std::string>>()};
    else if (body.error().code == ErrorCode::unavailable)
      throw DependencyUnavailable(body.error().detail);  // a 503, not a 401; not cached: it may be back soon
    std::lock_guard lock(mutex_);
    if (cache_.size() > 10000) cache_.clear();
    cache_[key] = {principal, now + kCacheFor};
    return principal;
  }

  Result<UserView> find_user(const UserId&) const override {
    return fail(Error::make(ErrorCode::unavailable, "Looking up another user is not offered over HTTP."));
  }

 private:
  struct Cached {
    std::optional<Principal> principal;
    std::chrono::steady_clock::time_point until;
  };
  remote::Endpoint endpoint_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, Cached> cache_;
};

}  // namespace

std::unique_ptr<Api> make_remote(const std::string& base_url) {
  auto endpoint = remote::parse_base_url(base_url);
  if (!endpoint) throw std::invalid_argument("identity: not an http://host:port URL: " + base_url);
  return std::make_unique<RemoteIdentity>(*endpoint);
}

}  // namespace eshop::identity
