#include "core/net.h"

#include <fmt/format.h>

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

}  // namespace troad
