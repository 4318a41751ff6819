#include "kernel/sqlite_vfs.hpp"

#include <atomic>
#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

#include <sqlite3.h>

namespace eshop::sqlite_vfs {
namespace {

std::atomic<std::uint64_t> kernel_writes{0}, sqlite_writes{0};

// At most this many bytes are gathered (what would go past it writes out what was gathered first):
// SQLite's unix VFS writes at most 128 KiB - 1 bytes per call (it masks the length to 17 bits), and
// a bound keeps each writer's buffer small (a batch of 90 pages reaches the kernel in three or four
// writes).
constexpr std::size_t kMaxGathered = (128u << 10) - (4u << 10);

sqlite3_vfs* root() {
  static sqlite3_vfs* const unix_vfs = [] {
    sqlite3_vfs* v = sqlite3_vfs_find(nullptr);  // SQLite's default: "unix" on Linux
    if (!v) throw std::runtime_error("sqlite: no default VFS");
    return v;
  }();
  return unix_vfs;
}

// A WAL file: the real one (SQLite's own file object) lives in the same allocation, after this.
struct GatheringFile {
  sqlite3_file base;  // first: SQLite sees this
  sqlite3_file* real;
  std::vector<unsigned char> gathered;  // contiguous bytes not yet written, from offset `at`
  sqlite3_int64 at = 0;
};

constexpr std::size_t kRealOffset = (sizeof(GatheringFile) + alignof(std::max_align_t) - 1) /
                                    alignof(std::max_align_t) * alignof(std::max_align_t);

GatheringFile& self(sqlite3_file* f) { return *reinterpret_cast<GatheringFile*>(f); }
sqlite3_file* real(sqlite3_file* f) { return self(f).real; }

int flush(GatheringFile& g) {
  if (g.gathered.empty()) return SQLITE_OK;
  const int rc = g.real->pMethods->xWrite(g.real, g.gathered.data(), static_cast<int>(g.gathered.size()), g.at);
  kernel_writes.fetch_add(1, std::memory_order_relaxed);
  g.gathered.clear();
  return rc;
}

int x_close(sqlite3_file* f) {
  auto& g = self(f);
  int rc = flush(g);
  const int closed = g.real->pMethods->xClose(g.real);
  if (rc == SQLITE_OK) rc = closed;
  g.~GatheringFile();
  return rc;
}

int x_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  if (const int rc = flush(self(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xRead(real(f), out, amount, offset);
}

int x_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  auto& g = self(f);
  sqlite_writes.fetch_add(1, std::memory_order_relaxed);
  const auto n = static_cast<std::size_t>(amount);
  const bool follows = !g.gathered.empty() && offset == g.at + static_cast<sqlite3_int64>(g.gathered.size());
  if (!follows || g.gathered.size() + n > kMaxGathered) {
    if (const int rc = flush(g); rc != SQLITE_OK) return rc;
    g.at = offset;
  }
  if (n > kMaxGathered) {  // larger than SQLite's pages: never for a WAL frame, but written as it is
    kernel_writes.fetch_add(1, std::memory_order_relaxed);
    return g.real->pMethods->xWrite(g.real, data, amount, offset);
  }
  if (g.gathered.capacity() == 0) g.gathered.reserve(kMaxGathered);
  const auto* bytes = static_cast<const unsigned char*>(data);
  g.gathered.insert(g.gathered.end(), bytes, bytes + n);
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (const int rc = flush(self(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xTruncate(real(f), size);
}

int x_sync(sqlite3_file* f, int flags) {
  if (const int rc = flush(self(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xSync(real(f), flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (const int rc = flush(self(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xFileSize(real(f), size);
}

int x_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int x_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  if (const int rc = flush(self(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int x_device_characteristics(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int delete_flag) { return real(f)->pMethods->xShmUnmap(real(f), delete_flag); }
int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  if (const int rc = flush(self(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) { return real(f)->pMethods->xUnfetch(real(f), offset, p); }

const sqlite3_io_methods kMethods = {
    3,           x_close,     x_read,          x_write,     x_truncate,    x_sync,  x_file_size,
    x_lock,      x_unlock,    x_check_reserved_lock,        x_file_control, x_sector_size,
    x_device_characteristics, x_shm_map,       x_shm_lock,  x_shm_barrier, x_shm_unmap, x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* const r = root();
  // Every other file is SQLite's own, opened in place (this VFS's files are larger than root's).
  if (!(flags & SQLITE_OPEN_WAL)) return r->xOpen(r, name, f, flags, out_flags);
  auto* inner = reinterpret_cast<sqlite3_file*>(reinterpret_cast<unsigned char*>(f) + kRealOffset);
  const int rc = r->xOpen(r, name, inner, flags, out_flags);
  if (rc != SQLITE_OK || !inner->pMethods || inner->pMethods->iVersion < 3) {
    if (inner->pMethods) inner->pMethods->xClose(inner);
    f->pMethods = nullptr;  // so SQLite does not call x_close on a file that never opened
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  auto* g = new (f) GatheringFile{};
  g->real = inner;
  g->base.pMethods = &kMethods;
  return SQLITE_OK;
}

sqlite3_vfs* registered() {
  static sqlite3_vfs* const vfs = [] {
    static sqlite3_vfs v = *root();
    v.pNext = nullptr;
    v.zName = "eshop-gather";
    v.szOsFile = static_cast<int>(kRealOffset) + root()->szOsFile;
    v.xOpen = x_open;
    if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) throw std::runtime_error("sqlite: could not register a VFS");
    return &v;
  }();
  return vfs;
}

}  // namespace

const char* name() { return registered()->zName; }

Counts counts() {
  return {kernel_writes.load(std::memory_order_relaxed), sqlite_writes.load(std::memory_order_relaxed)};
}

}  // namespace eshop::sqlite_vfs
