// eshop: the one binary. `eshop serve` runs the shop; `eshop --help` explains the options.
#include <iostream>

#include <sys/stat.h>

#include "app/app.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "net/http_server.hpp"

int main(int argc, char** argv) {
  auto parsed = eshop::app::parse_command_line(argc, argv, eshop::app::process_environment());
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  const auto& config = std::get<eshop::app::Config>(parsed);
  eshop::app::init_logging(config.log_level);
  // Files this process creates (databases, mail, logs) are its own: 0600, directories 0700.
  ::umask(077);
  // Every connection is a file descriptor: use all the system allows (the hard limit).
  eshop::net::raise_fd_limit();
  // Blocked before any thread starts, so a signal waits for run_until_signal().
  eshop::net::block_stop_signals();
  try {
    eshop::app::App app(config);
    app.start();
    app.run_until_signal();
  } catch (const eshop::app::StartupError& e) {
    std::cerr << "eshop: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "eshop: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
