// Checks MyData's registrations and records share: the identity centre's acr values,
// and text shown to people or auditors. Header-only, so that the fuzz build can take
// consent.cpp alone.
// Thread-safety: pure.
#pragma once

#include <algorithm>
#include <string_view>

#include "core/encoding.h"
#include "core/result.h"

namespace troad::mydata {

// "urn:troad:loa:1" … "urn:troad:loa:3" (one method of at least that level) or
// "urn:troad:mfa" (two different methods): the idp's acr values (docs/identity.md).
inline bool IsIdpAcr(std::string_view acr) {
  return acr == "urn:troad:loa:1" || acr == "urn:troad:loa:2" || acr == "urn:troad:loa:3" ||
         acr == "urn:troad:mfa";
}

// Catalogue and registry ids ("household.members", "bot-mortgage"): 3 to 64 lower-case
// letters, digits, '.', '-' or '_', starting with a letter. kInvalidArgument starting
// with `field` otherwise.
inline Status ValidateId(std::string_view field, std::string_view id) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  if (id.size() < 3 || id.size() > 64 || !lower(id.front()) ||
      !std::all_of(id.begin(), id.end(), [&](char c) {
        return lower(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      })) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: 3 to 64 lower-case letters, digits, '.', '-' or '_', starting with a "
                "letter, not \"{}\"",
                field, EscapeForLog(id, 80));
  }
  return Ok();
}

// kInvalidArgument, starting with `field`: empty (when `required`), longer than
// `max_bytes`, not UTF-8, or holding a control character.
inline Status ValidateText(std::string_view field, std::string_view text, size_t max_bytes,
                           bool required = true) {
  if (required && text.empty()) return Fail(ErrorCode::kInvalidArgument, "{}: required", field);
  if (text.size() > max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "{}: at most {} bytes, not {}", field, max_bytes,
                text.size());
  }
  if (!IsValidUtf8(text)) return Fail(ErrorCode::kInvalidArgument, "{}: not UTF-8", field);
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return Fail(ErrorCode::kInvalidArgument, "{}: holds a control character", field);
  }
  return Ok();
}

}  // namespace troad::mydata
