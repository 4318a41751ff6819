// Must not compile: catalog's internals (its src/) are on no other target's include path.
#include <read_model.hpp>
int arch_probe_internal() { return 0; }
