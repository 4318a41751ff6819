// Must not compile: only identity_api is linked, so catalog's public header is not visible.
#include <catalog/api.hpp>
int arch_probe_undeclared() { return sizeof(eshop::catalog::ProductView) > 0 ? 0 : 1; }
