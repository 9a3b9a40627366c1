// Verification methods behind one interface. The provider (identity/provider.h) owns
// the browser's side of a sign-in — session, CSRF, rate limits and lockout, audit log,
// pages — and asks a method one question: does this attempt prove who the person is?
// A method answers with a Verdict; it never touches the session, the audit log or the
// failure counters itself, so every method is refused, counted and audited the same way.
//
//   method               module          input fields                               level
//   passkey              webauthn        id, clientDataJSON, authenticatorData,        3
//                                        signature (base64url, from /static/idp.js)
//   citizen_certificate  citizen_cert,   signature (CMS over the session's challenge)  3
//                        ocsp
//   totp                 totp, accounts  code                                          2
//   sms                  sms             code (sent by SmsMethod::Send)                1
//   dual_document        dual_document   health_card, household_id                    1
//
// A method that must ask another system — dual-document asks the registries over
// T-Road — does not block the caller's thread: its first verdict is kLookup, carrying
// work the caller runs elsewhere (identity/idp.cpp: a thread of its own, away from the
// database thread); the caller then tries again with the answer in Attempt::answer.
//
// Thread-safety: Verify and Send run on the provider's (database) thread only;
// Lookup::run may run on any one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "http/form.h"
#include "identity/accounts.h"
#include "identity/ocsp.h"
#include "identity/oidc.h"
#include "identity/pages.h"
#include "identity/webauthn.h"
#include "store/database.h"

namespace troad::identity {

class CitizenCertVerifier;
class DualDocumentChecker;
class SmsSender;

// Work a method needs done away from the database thread.
struct Lookup {
  std::string key;  // names the question; an answer counts only for the same key
  std::function<Result<nlohmann::json>()> run;
};

struct LookupAnswer {
  std::string key;
  Result<nlohmann::json> result;
};

// One try at one method.
struct Attempt {
  Locale locale = Locale::kZhTw;
  std::string session;                // the browser session's id (SMS codes belong to it)
  std::string claimed_national_id;    // what the person typed; empty before a passkey names it
  std::optional<Person> person;       // the account of claimed_national_id, when there is one
  const http::Form* input = nullptr;  // what the person typed or the browser sent; not null
  // The challenge the session held for this method — already spent, whatever the
  // outcome — or empty when none was live (expired, used, or issued for another method).
  std::string challenge;
  // Another method succeeded for `person` earlier in this sign-in.
  bool proved_in_session = false;
  // The answer to the Lookup this method asked for, once the caller has run it.
  const LookupAnswer* answer = nullptr;
};

struct Verdict {
  enum class Kind {
    kVerified,     // person_id / national_id proved who they are
    kRefused,      // the attempt failed: `message` to the person, `reason` to the audit log
    kUnavailable,  // the method cannot decide now (a registry is down): not the person's fault
    kLookup,       // run `lookup` off the database thread, then try again with its answer
    kInternal,     // our fault (the database): `reason`
  };
  Kind kind = Kind::kRefused;
  std::string person_id;    // kVerified; for kRefused, whom the attempt was about, if known
  std::string national_id;  // kVerified
  std::string reason;
  std::string message;
  bool counts = false;       // kRefused: counts towards lockout of the account and the address
  bool keep_prompt = false;  // kRefused: the same prompt stays open (the SMS code field)
  // What the method changed in the account on the way (a certificate linked, an account
  // created from the registries), each audited as an account event.
  std::vector<std::string> account_changes;
  std::optional<Lookup> lookup;  // kLookup
  // Set by the provider, not by methods: the attempt was refused because the account or
  // the address is locked until this time (Unix ms).
  int64_t locked_until = 0;

  static Verdict Verified(std::string person_id, std::string national_id);
  static Verdict Refused(std::string reason, std::string message, bool counts);
  static Verdict Unavailable(std::string reason, std::string message);
  static Verdict Internal(std::string reason);
  static Verdict Ask(Lookup lookup);
  Verdict&& About(std::string person) && {
    person_id = std::move(person);
    return std::move(*this);
  }
};

class VerificationMethod {
 public:
  virtual ~VerificationMethod() = default;
  virtual Method method() const = 0;
  // Methods that sign a server challenge name the kind of challenge the session holds
  // for them and make new ones; the others return empty strings.
  virtual std::string_view challenge_kind() const { return {}; }
  virtual std::string NewChallenge() const { return {}; }
  virtual Verdict Verify(const Attempt& attempt) = 0;
};

// TOTP (RFC 6238) against the person's confirmed authenticator app; a code is never
// accepted twice (Accounts::VerifyTotp).
std::unique_ptr<VerificationMethod> MakeTotpMethod(Accounts& accounts);

struct SmsMethodOptions {
  std::chrono::seconds code_lifetime{300};
  int max_attempts = 5;  // wrong codes before the code is void
};

// A six-digit code sent to the registered mobile number, kept (hashed) per session.
class SmsMethod final : public VerificationMethod {
 public:
  SmsMethod(store::Database& db, const Clock& clock, SmsSender& sender, SmsMethodOptions options)
      : db_(db), clock_(clock), sender_(sender), options_(options) {}
  Method method() const override { return Method::kSms; }
  Verdict Verify(const Attempt& attempt) override;
  // Sends a new code (voiding the session's previous one). kNotFound when nothing was
  // sent because there is no such person or no mobile number (the reason says which;
  // the person is not told); kUnavailable when the SMS gateway refused.
  Status Send(const Attempt& attempt);

 private:
  store::Database& db_;
  const Clock& clock_;
  SmsSender& sender_;
  SmsMethodOptions options_;
};

// A WebAuthn assertion (identity/webauthn.h) by a registered passkey; the passkey names
// its owner, so the attempt may come without a national id. A counter that goes back
// (a cloned authenticator) is refused.
std::unique_ptr<VerificationMethod> MakePasskeyMethod(Accounts& accounts,
                                                      webauthn::RelyingParty rp);

// A CMS signature by a citizen certificate over the session's challenge. A certificate
// not yet linked is linked only when another method proved the person in this sign-in.
// With `ocsp`, the CA's OCSP responder is asked too (a Lookup): revoked or unknown is
// refused, no trustworthy answer is "unavailable".
std::unique_ptr<VerificationMethod> MakeCitizenCertificateMethod(
    Accounts& accounts, const CitizenCertVerifier& verifier, const Clock& clock,
    std::optional<OcspOptions> ocsp = std::nullopt);

// Health-card and household numbers, checked with the registries through `checker`
// (a Lookup); the first sign-in of a person the registries know creates the account.
std::unique_ptr<VerificationMethod> MakeDualDocumentMethod(Accounts& accounts,
                                                           DualDocumentChecker& checker);

}  // namespace troad::identity
