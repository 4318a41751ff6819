#include "adapters/file_mail_sender.hpp"

#include "adapters/durable_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
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

}  // namespace

void FileMailSender::send(const MailMessage& m) {
  const auto target = dir_ / (m.id + ".eml");
  if (::access(target.c_str(), F_OK) == 0) {  // sent before; a crash may have come before its directory's sync
    sync_directory();
    return;
  }
  const auto temp = dir_ / ("." + m.id + ".tmp");
  const auto text = to_rfc5322(m, from_, std::chrono::system_clock::now());
  try {
    write_file_durably(temp, text);
  } catch (const std::system_error& e) {
    if (e.code() != std::errc::no_such_file_or_directory) throw;
    std::filesystem::create_directories(dir_);  // the directory went away (or nobody made it yet)
    write_file_durably(temp, text);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) fail("could not rename into", target, errno);
  sync_directory();
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
