#pragma once
// The VFS every eshop SQLite connection opens its files with: SQLite's own ("unix"), except that a
// WAL file gathers consecutive writes in memory (at most 124 KiB) and hands them to the kernel in
// one write when the next would not follow or not fit, and before SQLite syncs the WAL (or reads
// it, asks its size, truncates or closes it).
//
// SQLite writes each WAL frame as two writes (its 24-byte header, then the page), so a batch of
// 90 pages was 180 pwrite(2) calls before its one fdatasync, and is now three or four; on this
// kind of virtual machine each system call is a trip through the hypervisor's interrupt handling. The bytes, their order and
// their offsets in the file are exactly SQLite's; only when they reach the kernel changes. Nothing
// reads a frame before the commit's sync: every eshop writer runs `synchronous = FULL`, where
// SQLite syncs the WAL before it makes a commit visible in the WAL index, and a process killed
// before that sync loses only frames no commit covered (as it would have, had they been written).
// Other files (the database itself, the WAL index) pass straight through.
#include <cstdint>

namespace eshop::sqlite_vfs {

// The VFS's name for sqlite3_open_v2; registered on first use (not as the default).
const char* name();

// How many writes the gathering WAL files have handed to the kernel, and how many frame writes
// SQLite made to them, since the process started (for tests).
struct Counts {
  std::uint64_t kernel_writes = 0;
  std::uint64_t sqlite_writes = 0;
};
Counts counts();

}  // namespace eshop::sqlite_vfs
