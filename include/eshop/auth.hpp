#pragma once
// Who is calling. The edge resolves a bearer token into a Principal once per request.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <eshop/ids.hpp>

namespace eshop {

inline constexpr std::string_view kAdminRole = "admin";
inline constexpr std::string_view kCustomerRole = "customer";

struct Principal {
  UserId id;
  std::string email;
  std::string name;
  std::vector<std::string> roles;

  bool has_role(std::string_view role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The user a live (unexpired, not revoked) token belongs to; nullopt otherwise.
  virtual std::optional<Principal> authenticate(std::string_view bearer_token) const = 0;
  // True when authenticate() never waits on another process or a database query (the edge may
  // then call it on an I/O thread); at most a first look-up of a user is read from a local file.
  virtual bool answers_from_memory() const { return false; }
};

}  // namespace eshop
