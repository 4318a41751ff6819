#pragma once
// identity's public face: who a token belongs to, and a user's contact facts.
#include <string>
#include <vector>

#include <eshop/auth.hpp>
#include <eshop/error.hpp>
#include <eshop/ids.hpp>

namespace eshop::identity {

struct UserView {
  UserId id;
  std::string email;
  std::string name;
  std::vector<std::string> roles;
};

class Api : public Authenticator {
 public:
  // The user with this id; not_found if there is none.
  virtual Result<UserView> find_user(const UserId& id) const = 0;
};

}  // namespace eshop::identity
