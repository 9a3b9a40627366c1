// Each client assertion (RFC 7523 §3, item 7: the "jti" may be used once) is accepted
// once: its jti is kept until a minute after it expires, in the caller's table
//   client_assertions (client TEXT, jti TEXT, expires_at INTEGER, PRIMARY KEY (client, jti))
// The idp's token endpoint and MyData's service-provider API both keep one.
//
// Thread-safety: as the Database; use from one thread at a time.
#pragma once

#include <string_view>

#include "core/result.h"
#include "store/database.h"

namespace troad::store {

// Records `jti` of `client`'s assertion expiring at `exp_s` (Unix seconds), dropping
// entries that expired before `now_ms`. kUnauthenticated "client_assertion: jti was
// already used (replay)" when it is there already.
Status AcceptJtiOnce(Database& db, std::string_view client, std::string_view jti, int64_t exp_s,
                     int64_t now_ms);

}  // namespace troad::store
