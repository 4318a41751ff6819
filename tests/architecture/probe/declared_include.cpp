// Control: identity's own public header, with identity_api linked, compiles.
#include <identity/api.hpp>
int arch_probe_declared() { return sizeof(eshop::identity::UserView) > 0 ? 0 : 1; }
