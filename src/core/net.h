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

}  // namespace troad
