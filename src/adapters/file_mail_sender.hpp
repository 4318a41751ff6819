#pragma once
// The default mail adapter: each message becomes an RFC 5322 file <dir>/<id>.eml, written to a
// temporary name and renamed, so a reader never sees half a message and a resend is a no-op. A
// message is on the disk when send() returns (the file synced before the rename, the directory
// after it), as a mail server's "250 OK" means, so the inbox never records a mail a power cut lost.
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include <eshop/clock.hpp>
#include <eshop/mail.hpp>

namespace eshop::adapters {

class FileMailSender final : public MailSender {
 public:
  FileMailSender(std::filesystem::path directory, std::string from);
  // With a journal in `journal` (a directory, made if missing; apart from the mail directory, on
  // the same file system): its messages left by a crash are written at once (throws, naming the
  // file, when they cannot be).
  FileMailSender(std::filesystem::path directory, std::string from, const std::filesystem::path& journal);
  ~FileMailSender() override;
  void send(const MailMessage& message) override;

  class Journal;

 private:
  void sync_directory();
  void write_and_rename(const std::string& id, const std::string& text, bool durably);

  std::filesystem::path dir_;
  std::string from_;
  std::unique_ptr<Journal> journal_;
  std::mutex mutex_;
  std::condition_variable synced_cv_;
  std::uint64_t renamed_ = 0;  // syncs asked for so far, each after its rename
  std::uint64_t synced_ = 0;   // the first this many are durable
  bool syncing_ = false;
};

// A display name safe in an address header: plain words, or RFC 2047 encoded words.
std::string display_name(std::string_view name);
// The message as RFC 5322 text with CRLF line ends; throws std::invalid_argument when `to` is not
// one plain address.

std::string to_rfc5322(const MailMessage& message, const std::string& from, TimePoint date);

}  // namespace eshop::adapters
