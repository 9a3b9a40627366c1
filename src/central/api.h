// The central's HTTP interface, as plain functions of a request: the management REST
// API (/api/v1/…, described by /api/openapi.json), enrollment of gateways, and the
// global configuration download (/globalconf/v1/…, docs/protocol.md §10). Central (the
// server, central/central.h) only moves bytes; every decision is here, so it is
// tested without sockets.
//
// Authentication: POST /api/v1/login gives a bearer token (AdminStore); every other
// /api/v1 call but enrollment and renewal needs `Authorization: Bearer <token>`.
// Enrollment is proven by a one-time code, renewal by a signature of the current
// certificate's key (CertificateAuthority::Renew). Permissions:
// operators may do everything; a member administrator acts for its own member
// (Principal::CanActFor). Every administrative action is audited — who, what, when,
// from where and the outcome — including refusals.
//
// Thread-safety: none; the server calls Handle from its one thread.
#pragma once

#include <functional>
#include <string>

#include "central/admin.h"
#include "central/ca_service.h"
#include "central/publisher.h"
#include "central/registry.h"
#include "http/types.h"

namespace troad {
class JsonErrors;
class JsonView;
}  // namespace troad

namespace troad::central {

class Api {
 public:
  Api(Registry& registry, CertificateAuthority& ca, AdminStore& admins, Publisher& publisher);

  // `remote` is the client's address as the audit log records it.
  http::Response Handle(const http::Request& request, const std::string& remote);

  // Called after every change the global configuration reflects (the server publishes).
  void OnChange(std::function<void()> f) { on_change_ = std::move(f); }

 private:
  struct Call;
  http::Response Dispatch(Call& call);
  http::Response Globalconf(Call& call);
  // POST /api/v1/renewal and /api/v1/renewal/status: no session, the signature is the
  // proof. `in` is the request body; `errors` collects what is wrong with it.
  http::Response Renewal(Call& call, JsonView& in, JsonErrors& errors);

  Registry& registry_;
  CertificateAuthority& ca_;
  AdminStore& admins_;
  Publisher& publisher_;
  std::function<void()> on_change_;
};

// The OpenAPI 3 description of the management API (served at /api/openapi.json).
std::string_view OpenApiDocument();

}  // namespace troad::central
