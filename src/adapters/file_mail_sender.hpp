#pragma once
// The default mail adapter: each message becomes an RFC 5322 file <dir>/<id>.eml, written to a
// temporary name and renamed, so a reader never sees half a message and a resend is a no-op.
#include <filesystem>
#include <string>
#include <string_view>

#include <eshop/clock.hpp>
#include <eshop/mail.hpp>

namespace eshop::adapters {

class FileMailSender final : public MailSender {
 public:
  FileMailSender(std::filesystem::path directory, std::string from) : dir_(std::move(directory)), from_(std::move(from)) {}
  void send(const MailMessage& message) override;

 private:
  std::filesystem::path dir_;
  std::string from_;
};

// A display name safe in an address header: plain words, or RFC 2047 encoded words.
std::string display_name(std::string_view name);
// The message as RFC 5322 text with CRLF line ends; throws std::invalid_argument when `to` is not
// one plain address.

std::string to_rfc5322(const MailMessage& message, const std::string& from, TimePoint date);

}  // namespace eshop::adapters
