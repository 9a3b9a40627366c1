// The assurance values MyData speaks: the identity centre's `acr` values
// (docs/identity.md, "Assurance"), which datasets require and consents record.
// Thread-safety: pure.
#pragma once

#include <string_view>

namespace troad::mydata {

// "urn:troad:loa:1" … "urn:troad:loa:3" (one method of at least that level) or
// "urn:troad:mfa" (two different methods).
inline bool IsIdpAcr(std::string_view acr) {
  return acr == "urn:troad:loa:1" || acr == "urn:troad:loa:2" || acr == "urn:troad:loa:3" ||
         acr == "urn:troad:mfa";
}

}  // namespace troad::mydata
