// The browser-facing parts of HTTP that sign-in pages need: query strings and
// application/x-www-form-urlencoded bodies (WHATWG URL Standard §5.1), Cookie headers
// (RFC 6265 §5.4) and Set-Cookie values (RFC 6265 §4.1).
//
// Parsing is strict where leniency would hide an attack: a name given twice is
// refused (OAuth 2.0, RFC 6749 §3.1: "request and response parameters MUST NOT be
// included more than once"), as are malformed percent-escapes, NUL bytes, invalid
// UTF-8, raw control characters and more than kMaxFormFields fields.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad::http {

inline constexpr size_t kMaxFormFields = 100;

// Decoded name → value. Lookups of absent names return an empty optional.
class Form {
 public:
  std::optional<std::string> Get(std::string_view name) const;
  // The value, or "" when absent.
  std::string Value(std::string_view name) const;
  bool Has(std::string_view name) const { return fields_.contains(std::string(name)); }
  size_t size() const { return fields_.size(); }
  const std::map<std::string, std::string, std::less<>>& fields() const { return fields_; }

  // Adds a field; kInvalidArgument when `name` is already present.
  Status Add(std::string name, std::string value);

 private:
  std::map<std::string, std::string, std::less<>> fields_;
};

// Parses "a=1&b=x+y%21": '+' is a space, %XX an octet. Empty pieces ("a=1&&b=2") are
// skipped; a piece without '=' is a name with an empty value. kInvalidArgument names
// the field and the fault.
Result<Form> ParseForm(std::string_view text);

// The query of a request target ("/authorize?x=1" → "x=1"; "" when there is none).
std::string_view QueryOf(std::string_view target);
// The path of a request target, without the query.
std::string_view PathOf(std::string_view target);

// A space-delimited parameter (OAuth's scope, acr_values; MyData's datasets) as its
// items, empty items dropped.
std::vector<std::string> SplitSpaces(std::string_view text);

// Encodes one name=value pair the way ParseForm reads it (spaces as %20).
std::string FormPair(std::string_view name, std::string_view value);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), if present. Values may
// be quoted ("a=\"1\""); the quotes are removed.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

struct CookieOptions {
  bool secure = false;            // only sent over HTTPS
  bool http_only = true;          // not readable by scripts
  std::string same_site = "Lax";  // "Strict", "Lax" or "None"
  std::string path = "/";
  int64_t max_age_s = -1;  // < 0: a session cookie; 0: delete it
};

// A Set-Cookie header value. `name` and `value` must be cookie-safe (RFC 6265 §4.1.1:
// no controls, whitespace, quotes, commas, semicolons or backslashes); the caller
// passes tokens it made (base64url), so this is checked with an assertion-like
// kInternal rather than escaped.
Result<std::string> SetCookie(std::string_view name, std::string_view value,
                              const CookieOptions& options);

}  // namespace troad::http
