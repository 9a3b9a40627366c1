#include "http/form.h"

#include <fmt/format.h>

#include "core/encoding.h"

namespace troad::http {
namespace {

// '+' means a space in application/x-www-form-urlencoded, then %XX octets.
Result<std::string> DecodeComponent(std::string_view text, std::string_view what) {
  std::string plus(text);
  for (char& c : plus) {
    if (c == '+') c = ' ';
  }
  auto decoded = PercentDecode(plus, /*forbid_nul=*/true);
  if (!decoded) return Fail(ErrorCode::kInvalidArgument, "{}: {}", what, decoded.error().message());
  if (!IsValidUtf8(*decoded)) return Fail(ErrorCode::kInvalidArgument, "{}: not valid UTF-8", what);
  return decoded;
}

bool CookieSafe(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> Form::Get(std::string_view name) const {
  auto it = fields_.find(name);
  if (it == fields_.end()) return std::nullopt;
  return it->second;
}

std::string Form::Value(std::string_view name) const { return Get(name).value_or(""); }

Status Form::Add(std::string name, std::string value) {
  if (fields_.contains(name)) {
    return Fail(ErrorCode::kInvalidArgument, "parameter \"{}\" is given more than once",
                EscapeForLog(name, 60));
  }
  if (fields_.size() >= kMaxFormFields) {
    return Fail(ErrorCode::kInvalidArgument, "more than {} parameters", kMaxFormFields);
  }
  fields_.emplace(std::move(name), std::move(value));
  return Ok();
}

Result<Form> ParseForm(std::string_view text) {
  // Browsers and clients percent-encode everything but printable ASCII; a raw control
  // byte is someone else's doing.
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the form has a raw control character (not percent-encoded)");
    }
  }
  Form form;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view piece = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    TROAD_ASSIGN_OR_RETURN(std::string name, DecodeComponent(raw_name, "a parameter name"));
    if (name.empty()) return Fail(ErrorCode::kInvalidArgument, "a parameter has no name");
    TROAD_ASSIGN_OR_RETURN(
        std::string value,
        DecodeComponent(raw_value, fmt::format("parameter \"{}\"", EscapeForLog(name, 60))));
    TROAD_RETURN_IF_ERROR(form.Add(std::move(name), std::move(value)));
  }
  return form;
}

std::string_view QueryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

std::string FormPair(std::string_view name, std::string_view value) {
  return PercentEncode(name) + "=" + PercentEncode(value);
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

Result<std::string> SetCookie(std::string_view name, std::string_view value,
                              const CookieOptions& options) {
  if (name.empty() || !CookieSafe(name) || name.find('=') != std::string_view::npos ||
      !CookieSafe(value)) {
    return Fail(ErrorCode::kInternal, "cookie \"{}\" has characters a cookie cannot carry",
                EscapeForLog(name, 60));
  }
  if (options.same_site != "Strict" && options.same_site != "Lax" && options.same_site != "None") {
    return Fail(ErrorCode::kInternal, "SameSite must be Strict, Lax or None");
  }
  std::string out =
      fmt::format("{}={}; Path={}; SameSite={}", name, value, options.path, options.same_site);
  if (options.max_age_s >= 0) out += fmt::format("; Max-Age={}", options.max_age_s);
  if (options.secure || options.same_site == "None") out += "; Secure";
  if (options.http_only) out += "; HttpOnly";
  return out;
}

std::vector<std::string> SplitSpaces(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace troad::http
