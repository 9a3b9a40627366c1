#include "gateway/access.h"

#include <vector>

#include "core/ids.h"
#include "gateway/fault.h"

namespace troad::gateway {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return {};
  return SplitPath(path);
}

bool MatchFrom(const std::vector<std::string_view>& pattern, size_t pi,
               const std::vector<std::string_view>& path, size_t si) {
  for (; pi < pattern.size(); ++pi, ++si) {
    std::string_view p = pattern[pi];
    if (p == "**") {
      for (size_t k = si; k <= path.size(); ++k) {
        if (MatchFrom(pattern, pi + 1, path, k)) return true;
      }
      return false;
    }
    if (si >= path.size()) return false;
    bool wildcard = p == "*" || (p.size() >= 2 && p.front() == '{' && p.back() == '}');
    if (!wildcard && p != path[si]) return false;
  }
  return si == path.size();
}

}  // namespace

bool PathMatches(std::string_view pattern, std::string_view path) {
  if (pattern == "*") return true;
  return MatchFrom(Segments(pattern), 0, Segments(path), 0);
}

bool EndpointMatches(const globalconf::Endpoint& rule, std::string_view method,
                     std::string_view path) {
  return (rule.method == "*" || rule.method == method) && PathMatches(rule.path, path);
}

Status CheckGrant(const globalconf::GlobalConf& conf, const ClientId& client,
                  const ServiceId& service, std::string_view method,
                  std::string_view normalized_path) {
  // The client's own grants and its groups' grants alike.
  for (const globalconf::Grant* grant : conf.GrantsFor(client, service)) {
    if (grant->rules.empty()) return Ok();
    for (const auto& rule : grant->rules) {
      if (EndpointMatches(rule, method, normalized_path)) return Ok();
    }
  }
  return Fail(
      Error(
          ErrorCode::kPermissionDenied,
          fmt::format("Request is not allowed: {} may not call {} {} of {}", client.ToString(),
                      method, normalized_path.empty() ? "/" : normalized_path, service.ToString()))
          .WithFault(std::string(kFaultAccessDenied)));
}

}  // namespace troad::gateway
