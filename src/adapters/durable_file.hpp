#pragma once
// Files that must survive a power cut once written: the confirmation mail, a moved module's database.
#include <filesystem>
#include <string_view>

namespace eshop::adapters {

// Writes `bytes` to `path` (created, or truncated); when `durably`, has its data on the disk before
// it returns. Throws std::system_error naming the path (ENOENT when its directory does not exist).
void write_file(const std::filesystem::path& path, std::string_view bytes, bool durably);
inline void write_file_durably(const std::filesystem::path& path, std::string_view bytes) {
  write_file(path, bytes, true);
}

// Has the names in `dir` (files created, renamed or removed there) on the disk before it returns.
// Throws std::system_error naming the directory.
void sync_directory(const std::filesystem::path& dir);

}  // namespace eshop::adapters
