// Network addresses as configuration and documents write them.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace troad {

// Splits "host:port" or "[v6]:port" (port 0–65535; 0 asks a listener for any free port). kInvalidArgument naming the text
// otherwise.
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view text);
// The inverse: "host:port", "[v6]:port" for a host with a ':'.
std::string JoinHostPort(std::string_view host, uint16_t port);

// kInvalidArgument naming what is wrong with a URI a service registers to have people
// (or notices) sent back to it: not absolute, a fragment, user information, a space or
// non-ASCII byte, http to a host other than localhost/127.0.0.1/[::1], another scheme,
// over 2000 bytes. Registered URIs are then matched exactly (RFC 9700 §4.1.3).
Status ValidateRedirectUri(std::string_view uri);

}  // namespace troad
