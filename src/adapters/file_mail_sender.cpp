#include "adapters/file_mail_sender.hpp"

#include "adapters/durable_file.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <thread>
#include <tuple>
#include <vector>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sodium.h>

#include <eshop/clock.hpp>

namespace eshop::adapters {
namespace {

// RFC 5322 date: "Tue, 24 Nov 2026 10:00:00 +0000".
std::string mail_date(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Header values must not carry line breaks (header injection).
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

bool is_atext_or_space(unsigned char c) {
  return std::isalnum(c) || c == ' ' || std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
                                            std::string_view::npos;
}

// UTF-8 text as RFC 2047 encoded words of at most 75 characters, never splitting a character.
std::string encoded_words(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t n = std::min<std::size_t>(45, text.size());  // 45 bytes: 60 of base64, 72 in all
    while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min<std::size_t>(45, text.size());
    std::string b64(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(text.data()), n,
                      sodium_base64_VARIANT_ORIGINAL);
    b64.resize(std::strlen(b64.c_str()));
    out += (out.empty() ? "" : " ") + ("=?UTF-8?B?" + b64 + "?=");
    text.remove_prefix(n);
  }
  return out;
}

}  // namespace

// A display name goes out as plain words when it is only letters, digits, spaces and the other
// characters an atom may hold; anything else (quotes, angle brackets, commas, non-ASCII) is
// RFC 2047-encoded, so no name can close a quoted string or add an address.
std::string display_name(std::string_view name) {
  const auto clean = one_line(std::string(name));
  if (std::all_of(clean.begin(), clean.end(), [](char c) { return is_atext_or_space(static_cast<unsigned char>(c)); }))
    return clean;
  return encoded_words(clean);
}

std::string to_rfc5322(const MailMessage& m, const std::string& from, TimePoint date) {
  std::string body;
  for (std::size_t i = 0; i < m.text.size(); ++i) {  // normalize to CRLF
    if (m.text[i] == '\n' && (i == 0 || m.text[i - 1] != '\r')) body += '\r';
    body += m.text[i];
  }
  // The address itself was checked at registration; a header must still never carry a second one.
  if (m.to.empty() || m.to.find_first_of("<>,;:\"()[]\\ \t\r\n") != std::string::npos)
    throw std::invalid_argument("not a single mail address: " + m.to.substr(0, 64));
  const auto name = display_name(m.to_name);
  const auto to = name.find_first_not_of(' ') == std::string::npos ? m.to : fmt::format("{} <{}>", name, m.to);
  return fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@eshop.local>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
      one_line(from), to, one_line(m.subject), mail_date(date), one_line(m.id), body);
}

namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int err) {
  throw std::system_error(err, std::generic_category(), what + " " + path.string());
}

int open_or_fail(const std::filesystem::path& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) fail(what, path, errno);
  return fd;
}

void write_all(int fd, std::string_view bytes, off_t at, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const auto n = ::pwrite(fd, bytes.data(), bytes.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("could not write", path, errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
    at += n;
  }
}

// A journal record: "EMJ1", the id's and the text's lengths, a SipHash of both, then id and text.
// A record cut short by a crash, or not all written, fails its hash and ends the journal.
constexpr std::string_view kMagic = "EMJ1";
constexpr std::size_t kHeader = 4 + 4 + 4 + crypto_shorthash_BYTES;

// The hash of a record's id and text, which lie one after the other in it.
std::array<unsigned char, crypto_shorthash_BYTES> hash_of(std::string_view id_and_text) {
  static const std::array<unsigned char, crypto_shorthash_KEYBYTES> key{};  // detects torn writes, not forgery
  std::array<unsigned char, crypto_shorthash_BYTES> h{};
  crypto_shorthash(h.data(), reinterpret_cast<const unsigned char*>(id_and_text.data()), id_and_text.size(),
                   key.data());
  return h;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint32_t get_u32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}

std::string record_of(std::string_view id, std::string_view text) {
  std::string r;
  r.reserve(kHeader + id.size() + text.size());
  r.append(kMagic);
  put_u32(r, static_cast<std::uint32_t>(id.size()));
  put_u32(r, static_cast<std::uint32_t>(text.size()));
  r.append(crypto_shorthash_BYTES, '\0');
  r.append(id).append(text);
  const auto h = hash_of(std::string_view(r).substr(kHeader));
  std::memcpy(r.data() + 12, h.data(), h.size());
  return r;
}

// The whole records at the start of `bytes`, in order.
std::vector<std::pair<std::string, std::string>> records_in(std::string_view bytes) {
  std::vector<std::pair<std::string, std::string>> out;
  while (bytes.size() >= kHeader && bytes.substr(0, 4) == kMagic) {
    const std::size_t id_size = get_u32(bytes.substr(4)), text_size = get_u32(bytes.substr(8));
    if (id_size > bytes.size() - kHeader || text_size > bytes.size() - kHeader - id_size) break;
    const auto id = bytes.substr(kHeader, id_size), text = bytes.substr(kHeader + id_size, text_size);
    const auto h = hash_of(bytes.substr(kHeader, id_size + text_size));
    if (std::memcmp(h.data(), bytes.data() + 12, h.size()) != 0) break;
    out.emplace_back(id, text);
    bytes.remove_prefix(kHeader + id_size + text_size);
  }
  return out;
}

std::string read_whole(int fd, const std::filesystem::path& path) {
  std::string out;
  char buf[65536];
  for (off_t at = 0;;) {
    const auto n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("could not read", path, errno);
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
}

}  // namespace

// Two files, `a` and `b`: messages are appended to one until it holds kLimit bytes, then to the
// other while the first is emptied once every file its messages went to is durable. A sync of the
// whole file system makes them so: syncfs(2) writes every dirty inode and page and flushes the
// device, then writes the block device's own buffers (on ext4 without a journal, directory blocks
// and bitmaps among them) without flushing again; the fsync of the mail directory after it flushes
// once more, after those writes.
class FileMailSender::Journal {
 public:
  static constexpr off_t kLimit = 2 << 20;
  struct InUse {};  // another process has the journal

  Journal(const std::filesystem::path& dir, std::filesystem::path mail_dir,
          const std::function<void(const std::string&, const std::string&)>& rewrite)
      : mail_dir_(std::move(mail_dir)) {
    std::filesystem::create_directories(dir);
    paths_ = {dir / "a", dir / "b"};
    for (int f = 0; f < 2; ++f) fds_[f] = open_or_fail(paths_[f], O_RDWR | O_CREAT, "could not open the mail journal");
    if (::flock(fds_[0], LOCK_EX | LOCK_NB) != 0) {  // one process per journal (released at close)
      const int err = errno;
      for (int f = 0; f < 2; ++f) ::close(fds_[f]);
      if (err == EWOULDBLOCK) throw InUse{};
      fail("could not lock", paths_[0], err);
    }
    try {
      dir_fd_ = open_or_fail(mail_dir_, O_RDONLY | O_DIRECTORY, "could not open the mail directory");
      // The file written last goes last, so a message journaled twice (a send that failed after
      // its sync, then its retry in the other file) ends as its last copy.
      struct stat st[2]{};
      for (int f = 0; f < 2; ++f)
        if (::fstat(fds_[f], &st[f]) != 0) fail("could not read", paths_[f], errno);
      const bool b_first = std::tie(st[1].st_mtim.tv_sec, st[1].st_mtim.tv_nsec) <
                           std::tie(st[0].st_mtim.tv_sec, st[0].st_mtim.tv_nsec);
      bool any = false;
      for (const int f : {b_first ? 1 : 0, b_first ? 0 : 1})
        for (const auto& [id, text] : records_in(read_whole(fds_[f], paths_[f]))) rewrite(id, text), any = true;
      for (int f = 0; f < 2; ++f) sizes_[f] = ::lseek(fds_[f], 0, SEEK_END);
      if (any || sizes_[0] > 0 || sizes_[1] > 0) {
        sync_files();
        for (int f = 0; f < 2; ++f) empty(f), sizes_[f] = 0;
      }
    } catch (...) {
      close_all();
      throw;
    }
    checkpointer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "mail-journal");
      checkpoint_loop();
    });
  }

  ~Journal() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_one();
    checkpointer_.join();
    // Nothing in flight any more (the senders are gone): leave the journal empty when the files
    // can be made durable; if not, the next start writes them again.
    try {
      sync_files();
      for (int f = 0; f < 2; ++f) empty(f);
    } catch (...) {
    }
    close_all();
  }

  // Appends the message and returns once it is durable, with the file it went to, to give to
  // filed() once its .eml is written (or given up).
  int append(std::string record) {
    Waiter me{std::move(record), false, 0, nullptr};
    std::unique_lock lock(mutex_);
    waiting_.push_back(&me);
    while (!me.done) {
      if (syncing_) {
        cv_.wait(lock);
        continue;
      }
      syncing_ = true;
      auto batch = std::move(waiting_);
      waiting_.clear();
      const int file = active_;
      const off_t at = sizes_[file];
      lock.unlock();
      std::exception_ptr failed;
      off_t end = at;
      try {
        std::string bytes;
        for (const auto* w : batch) bytes += w->record;
        write_all(fds_[file], bytes, at, paths_[file]);
        if (::fdatasync(fds_[file]) != 0) fail("could not sync", paths_[file], errno);
        end = at + static_cast<off_t>(bytes.size());
      } catch (...) {
        failed = std::current_exception();  // the next batch writes over what this one left
      }
      lock.lock();
      syncing_ = false;
      if (!failed) {
        sizes_[file] = end;
        in_flight_[file] += static_cast<int>(batch.size());
        if (sizes_[file] >= kLimit && checkpoint_ < 0 && sizes_[1 - file] == 0) {
          active_ = 1 - file;  // later messages go to the other file, and this one is emptied
          checkpoint_ = file;
        }
      }
      for (auto* w : batch) w->file = file, w->error = failed, w->done = true;
      cv_.notify_all();
    }
    if (me.error) std::rethrow_exception(me.error);
    return me.file;
  }

  void filed(int file) {
    std::lock_guard lock(mutex_);
    if (--in_flight_[file] == 0 && checkpoint_ == file) checkpoint_cv_.notify_one();
  }

 private:
  struct Waiter {
    std::string record;
    bool done = false;
    int file = 0;
    std::exception_ptr error;
  };

  void close_all() {
    for (int f = 0; f < 2; ++f) ::close(fds_[f]);
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }

  void sync_files() {
    if (::syncfs(dir_fd_) != 0) fail("could not sync the file system of", mail_dir_, errno);
    if (::fsync(dir_fd_) != 0) fail("could not sync the directory", mail_dir_, errno);
  }

  // Cuts file `f` to nothing, durably; its size in sizes_ is the caller's to reset (under mutex_
  // once the senders run).
  void empty(int f) {
    if (::ftruncate(fds_[f], 0) != 0) fail("could not empty", paths_[f], errno);
    if (::fdatasync(fds_[f]) != 0) fail("could not sync", paths_[f], errno);
  }

  // Empties the file given up by append() once every message in it is in its .eml.
  void checkpoint_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      checkpoint_cv_.wait(lock, [&] { return stopping_ || (checkpoint_ >= 0 && in_flight_[checkpoint_] == 0); });
      if (stopping_) return;
      const int file = checkpoint_;
      lock.unlock();
      bool done = false;
      try {
        sync_files();
        empty(file);
        done = true;
      } catch (const std::exception& e) {
        spdlog::error("mail journal: {} (tried again in a second; messages go on to the other file)", e.what());
      }
      lock.lock();
      if (done) {
        sizes_[file] = 0;
        checkpoint_ = -1;
      } else {
        checkpoint_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      }
    }
  }

  std::filesystem::path mail_dir_;
  std::array<std::filesystem::path, 2> paths_;
  std::array<int, 2> fds_{-1, -1};
  int dir_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable cv_;             // a batch is written
  std::condition_variable checkpoint_cv_;  // for the checkpointer: a file to empty, or stop
  std::vector<Waiter*> waiting_;  // under mutex_: the messages not yet taken by a batch
  bool syncing_ = false;          // under mutex_: a batch is being written
  int active_ = 0;                // under mutex_: the file messages go to
  std::array<off_t, 2> sizes_{0, 0};       // under mutex_ (the active one written by one batch at a time)
  std::array<int, 2> in_flight_{0, 0};     // under mutex_: messages journaled whose .eml is not written yet
  int checkpoint_ = -1;           // under mutex_: the file to empty once its messages are in their files
  bool stopping_ = false;
  std::thread checkpointer_;      // last: starts when the rest is ready
};

FileMailSender::FileMailSender(std::filesystem::path directory, std::string from)
    : dir_(std::move(directory)), from_(std::move(from)) {}

FileMailSender::FileMailSender(std::filesystem::path directory, std::string from, const std::filesystem::path& journal)
    : dir_(std::move(directory)), from_(std::move(from)) {
  std::filesystem::create_directories(dir_);
  try {
    journal_ = std::make_unique<Journal>(journal, dir_, [this](const std::string& id, const std::string& text) {
      write_and_rename(id, text, false);  // synced by the Journal, all at once
    });
  } catch (const Journal::InUse&) {
    spdlog::warn("the mail journal {} is in use by another process: this one syncs each message on its own",
                 journal.string());
  }
}

FileMailSender::~FileMailSender() = default;

// The .eml under a temporary name, then renamed, so a reader never sees half of it; synced before
// the rename when `durably` (without the journal: the caller syncs the directory after it).
void FileMailSender::write_and_rename(const std::string& id, const std::string& text, bool durably) {
  const auto target = dir_ / (id + ".eml");
  const auto temp = dir_ / ("." + id + ".tmp");
  try {
    write_file(temp, text, durably);
  } catch (const std::system_error& e) {
    if (e.code() != std::errc::no_such_file_or_directory) throw;
    std::filesystem::create_directories(dir_);  // the directory went away (or nobody made it yet)
    write_file(temp, text, durably);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) fail("could not rename into", target, errno);
}

void FileMailSender::send(const MailMessage& m) {
  const auto target = dir_ / (m.id + ".eml");
  if (::access(target.c_str(), F_OK) == 0) {  // sent before
    // With the journal its record or its file is durable; without, a crash may have come before
    // its directory's sync.
    if (!journal_) sync_directory();
    return;
  }
  const auto text = to_rfc5322(m, from_, std::chrono::system_clock::now());
  if (!journal_) {
    write_and_rename(m.id, text, true);
    sync_directory();
    return;
  }
  const int file = journal_->append(record_of(m.id, text));
  struct Filed {
    Journal& journal;
    int file;
    ~Filed() { journal.filed(file); }
  } filed{*journal_, file};
  write_and_rename(m.id, text, false);  // durable once the journal lets the message go
}

// The rename is durable once the directory is: one fsync of the directory covers every rename made
// before it started, so senders that rename at the same time share it (as writers share a commit).
void FileMailSender::sync_directory() {
  std::unique_lock lock(mutex_);
  const auto mine = ++renamed_;
  while (synced_ < mine) {
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    syncing_ = true;
    const auto upto = renamed_;
    lock.unlock();
    std::exception_ptr failed;
    try {
      adapters::sync_directory(dir_);
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    syncing_ = false;
    if (!failed) synced_ = std::max(synced_, upto);
    synced_cv_.notify_all();
    if (failed) std::rethrow_exception(failed);
  }
}

}  // namespace eshop::adapters
