// The identity centre's HTTP interface, as a function of a request (central/api.h's
// pattern): OpenID Connect (discovery, JWKS, authorize, token, userinfo), the sign-in
// and account pages and their forms, and the management API. Idp (identity/idp.h) only
// moves bytes and runs this on its database thread. The verification methods are
// modules behind one interface (identity/method.h); the provider drives them all alike:
// lockout first, then the method's verdict, then counting, audit and the session.
//
// Routes (docs/identity.md has them with examples):
//   GET  /.well-known/openid-configuration, /jwks
//   GET  /authorize                     OpenID Connect Core §3.1.2
//   GET  /signin?r=…                    the sign-in page for one authorization request
//   POST /signin/identify|totp|sms/send|sms/verify|certificate|dual-document|cancel
//                                       (forms)
//   POST /signin/passkey/begin|finish   (JSON, from /static/idp.js)
//   POST /token                         authorization_code grant, PKCE, client auth
//   GET|POST /userinfo                  Bearer access token
//   GET  /account; POST /account/totp/begin|confirm|remove, /account/passkey/begin|
//        finish|remove, /account/signout
//   /api/v1/clients[/{id}], /api/v1/persons, /api/v1/keys/rotate, /api/v1/audit
//        (Authorization: Bearer <management token>)
//   GET  /healthz, /static/idp.js, /static/idp.css
//
// Browser sessions: a random cookie (HttpOnly, SameSite=Lax, Secure over https); only
// its SHA-256 is stored. Every form carries the session's CSRF token, and a POST whose
// Origin header names another origin is refused. Failed verifications are counted per
// national id and per client address (rate limits and lockout, shared through the
// database); every sign-in step, refusal and administrative action is audited.
//
// Thread-safety: none; call Handle from one thread (the database thread).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "http/form.h"
#include "http/types.h"
#include "identity/accounts.h"
#include "identity/clients.h"
#include "identity/method.h"
#include "identity/oidc.h"
#include "identity/pages.h"
#include "identity/sms.h"
#include "store/database.h"
#include "store/signing_keys.h"

namespace troad::identity {

class CitizenCertVerifier;
class DualDocumentChecker;

struct ProviderOptions {
  std::string issuer;                   // "https://idp.example.tw" or "http://localhost:4600"
  std::string subject_salt;             // secret; pairwise subjects derive from it
  std::string management_token_sha256;  // hex; empty disables the management API
  std::string rp_id;                    // WebAuthn RP id: the issuer's host
  std::chrono::seconds session_lifetime{8 * 3600};
  std::chrono::seconds request_lifetime{30 * 60};
  std::chrono::seconds code_lifetime{60};
  std::chrono::seconds token_lifetime{600};  // ID and access tokens
  std::chrono::seconds sms_code_lifetime{300};
  int sms_max_attempts = 5;
  int sms_max_sends = 5;  // codes sent per national id within failure_window
  int max_failures_per_account = 5;
  int max_failures_per_remote = 30;
  std::chrono::seconds failure_window{15 * 60};
  std::string card_component_url = "http://127.0.0.1:61161/sign";
  // [citizen_certificate] ocsp: also ask the CA's OCSP responder about each certificate.
  std::optional<OcspOptions> citizen_ocsp;
  store::SigningKeyOptions keys;
};

class Provider {
 public:
  // `sms` must outlive the provider; `certificates` may be null (no citizen
  // certificate), and so may `dual_document` (no dual-document method).
  Provider(store::Database& db, const Clock& clock, ProviderOptions options, SmsSender& sms,
           const CitizenCertVerifier* certificates, DualDocumentChecker* dual_document = nullptr);
  ~Provider();

  // One request, in two steps when a verification method must first ask another system
  // (method.h, "Lookup"): a Served with `lookup` set asks the caller to run it away from
  // this thread and then Serve the same request again with the answer. `remote` is the
  // client address as the audit log records it.
  struct Served {
    http::Response response;
    std::optional<Lookup> lookup;
  };
  Served Serve(const http::Request& request, const std::string& remote, const LookupAnswer* answer);
  // Serve, running any lookup on this thread (tests and tools).
  http::Response Handle(const http::Request& request, const std::string& remote);

  Accounts& accounts() { return accounts_; }
  ClientRegistry& clients() { return clients_; }
  store::SigningKeys& keys() { return keys_; }

  struct Call;
  struct Session;
  struct Pending;

 private:
  http::Response Dispatch(Call& call);
  http::Response Authorize(Call& call);
  http::Response SignInPage(Call& call);
  http::Response SignInForm(Call& call, std::string_view step);
  http::Response Passkey(Call& call, std::string_view step, bool account);
  http::Response SendSmsCode(Call& call, Session& session, const Pending& pending);
  http::Response Token(Call& call);
  http::Response UserInfo(Call& call);
  http::Response Account(Call& call, std::string_view step);
  http::Response Management(Call& call);

  // The pieces of a sign-in (provider.cpp).
  Result<Pending> LoadRequest(const Session& session, std::string_view id);
  http::Response ShowSignIn(Call& call, Session& session, const Pending& pending,
                            std::vector<Notice> notices, bool sms_sent = false);
  // After a method succeeded: the redirect back to the service when the request's
  // assurance is met now, else the sign-in page asking for more.
  http::Response Progress(Call& call, Session& session, const Pending& pending,
                          std::vector<Notice> notices);
  // One try at `method` with `input`: lockout, the session's challenge for the method
  // (spent), the method's verdict, then failures counted, the outcome audited and, when
  // verified, the method added to the session. A kLookup verdict is left in call.lookup.
  Verdict Try(Call& call, Session& session, const Pending& pending, VerificationMethod& method,
              const http::Form& input);
  // An attempt for the session's claimed national id (and its account, if there is one);
  // the caller adds the input, the answer and the challenge.
  Result<Attempt> NewAttempt(const Call& call, const Session& session);
  // The sign-in page's answer to Try's verdict.
  http::Response ShowVerdict(Call& call, Session& session, const Pending& pending, Method method,
                             const Verdict& verdict);
  // The time (Unix ms) a lock on the national id (when not empty) or on the address lifts,
  // audited; nullopt when neither is locked.
  std::optional<int64_t> Locked(const Call& call, std::string_view client, std::string_view method,
                                std::string_view national_id);
  VerificationMethod* MethodFor(Method method) const;
  Result<std::string> IssueCode(const Session& session, const Pending& pending,
                                const std::vector<VerifiedMethod>& methods, const std::string& acr);
  http::Response ErrorPage(Call& call, unsigned status, std::string_view message);
  // The redirect back to a relying party: `params`, then `state` (if any) and `iss`.
  http::Response BackToClient(std::string_view redirect_uri, std::string_view state,
                              std::vector<std::pair<std::string, std::string>> params) const;
  // Keeps an authorization request for the sign-in page.
  Status StoreRequest(const Pending& pending);
  http::Response WithSessionCookie(Call& call, const Session& session, http::Response res);
  bool CsrfOk(Call& call, const Session& session, std::string_view given);

  // Session and request state (provider.cpp).
  Result<Session> LoadSession(Call& call);
  Result<Session> NewSession();
  Status SaveSession(const Session& session);
  void Audit(const Call& call, std::string_view event, std::string_view outcome,
             std::string_view person, std::string_view client, std::string_view method,
             std::string_view reason);
  // nullopt, or the time (Unix ms) the lock on (scope, key) lifts.
  std::optional<int64_t> LockedUntil(std::string_view scope, std::string_view key, int max);
  void RecordFailure(std::string_view scope, std::string_view key);

  store::Database& db_;
  const Clock& clock_;
  ProviderOptions options_;
  SmsSender& sms_;
  Accounts accounts_;
  ClientRegistry clients_;
  store::SigningKeys keys_;
  webauthn::RelyingParty rp_;
  // The methods this centre offers; SMS also sends codes, so it is kept by its type too.
  std::map<Method, std::unique_ptr<VerificationMethod>> methods_;
  SmsMethod* sms_method_ = nullptr;
};

}  // namespace troad::identity
