#include "adapters/durable_file.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace eshop::adapters {
namespace {

[[noreturn]] void fail(const char* what, const std::filesystem::path& path, int err) {
  throw std::system_error(err, std::generic_category(), std::string(what) + " " + path.string());
}

}  // namespace

void write_file(const std::filesystem::path& path, std::string_view bytes, bool durably) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("could not create", path, errno);
  int err = 0;
  const char* what = nullptr;
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno, what = "could not write";
      break;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  if (!what && durably && ::fdatasync(fd) != 0) err = errno, what = "could not sync";
  if (::close(fd) != 0 && !what) err = errno, what = "could not close";
  if (what) fail(what, path, err);
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("could not open the directory", dir, errno);
  const int err = ::fsync(fd) != 0 ? errno : 0;
  ::close(fd);
  if (err != 0) fail("could not sync the directory", dir, err);
}

}  // namespace eshop::adapters
