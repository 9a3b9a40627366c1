#include "core/net.h"

#include <fmt/format.h>

#include "core/encoding.h"

namespace troad {

std::string JoinHostPort(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument, "\"{}\" is not host:port", std::string(text));
  };
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) return bad();
  std::string host(text.substr(0, colon));
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad();
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return bad();
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > 65535) return bad();
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Status ValidateRedirectUri(std::string_view uri) {
  if (uri.size() > 2000) return Fail(ErrorCode::kInvalidArgument, "redirect URI over 2000 bytes");
  if (uri.find('#') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "redirect URI {} has a fragment", EscapeForLog(uri));
  }
  for (unsigned char c : uri) {
    if (c <= 0x20 || c >= 0x7f) {
      return Fail(ErrorCode::kInvalidArgument,
                  "redirect URI {} has a space, control or non-ASCII character", EscapeForLog(uri));
    }
  }
  std::string_view rest;
  bool https = uri.starts_with("https://");
  if (https) {
    rest = uri.substr(8);
  } else if (uri.starts_with("http://")) {
    rest = uri.substr(7);
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "redirect URI {} must be https:// (or http:// to "
                "a loopback host)",
                EscapeForLog(uri));
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "redirect URI {} has no host, or user information",
                EscapeForLog(uri));
  }
  if (!https) {
    std::string_view host = authority;
    if (host.starts_with("[")) {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (host != "localhost" && host != "127.0.0.1" && host != "[::1]") {
      return Fail(ErrorCode::kInvalidArgument,
                  "redirect URI {}: http:// is allowed only to localhost, 127.0.0.1 or [::1]",
                  EscapeForLog(uri));
    }
  }
  return Ok();
}

}  // namespace troad
