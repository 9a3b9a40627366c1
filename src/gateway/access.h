// Access decisions, as pure functions: does a grant let this client call this method
// and path of this service? Deny unless a grant says otherwise. A grant counts when it
// names the client itself or a global group the client is a member of
// (GlobalConf::GrantsFor); membership is read from the same configuration, so removing
// a member or withdrawing a grant takes effect with the next configuration.
//
// Rule paths are matched segment by segment against the normalised request path
// (NormalizeRestPath: percent-decoded, dot-segments refused, repeated slashes
// collapsed): a literal segment matches itself, "*" or "{name}" matches exactly one
// segment, "**" matches any number of segments (also none). A rule path "*" alone
// matches every path; method "*" matches every method.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "core/result.h"
#include "globalconf/model.h"

namespace troad::gateway {

bool PathMatches(std::string_view pattern, std::string_view path);
bool EndpointMatches(const globalconf::Endpoint& rule, std::string_view method,
                     std::string_view path);

// Ok when some grant for `service` — to `client`, or to a global group `client` is a
// member of — allows `method` on `normalized_path`; otherwise kPermissionDenied with
// the fault "AccessDenied".
Status CheckGrant(const globalconf::GlobalConf& conf, const ClientId& client,
                  const ServiceId& service, std::string_view method,
                  std::string_view normalized_path);

}  // namespace troad::gateway
