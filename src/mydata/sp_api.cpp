// The service providers' API (docs/mydata.md, "Service-provider API"): a bank's or a
// county's back end pushes a request for a person's datasets and gets the link to send
// the person to, and asks how a transaction is going. Form-encoded like an OAuth token
// endpoint (RFC 9126 pushes an authorization request the same way); every call carries
// a private_key_jwt client assertion (RFC 7523) whose audience is MyData's public URL or
// the endpoint's URL.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "core/encoding.h"
#include "crypto/client_assertion.h"
#include "mydata/api.h"
#include "store/client_assertions.h"

namespace troad::mydata {
namespace {

namespace bhttp = http::bhttp;

constexpr size_t kMaxDatasetsPerRequest = 50;
constexpr int64_t kDefaultLifetimeS = 1800;

// The answer for a refusal: {"error", "error_description"} with the status the live
// platform uses for it (docs/mydata.md, "Result codes").
http::Response Refusal(unsigned status, std::string_view error, std::string_view description) {
  return http::JsonResponse(status, {{"error", error}, {"error_description", description}});
}

}  // namespace

Result<ServiceProvider> Api::AuthenticateServiceProvider(const http::Form& form,
                                                         std::string_view path,
                                                         std::string_view remote) {
  if (form.Value("client_assertion_type") != crypto::kJwtBearerAssertionType) {
    return Fail(ErrorCode::kUnauthenticated, "client_assertion_type must be {}",
                crypto::kJwtBearerAssertionType);
  }
  TROAD_ASSIGN_OR_RETURN(auto parsed, crypto::ParseClientAssertion(form.Value("client_assertion")));
  auto sp = providers_.Get(parsed.client_id);
  if (!sp) {
    return Fail(ErrorCode::kUnauthenticated, "unknown service provider \"{}\"",
                EscapeForLog(parsed.client_id, 64));
  }
  if (sp->auth_method != SpAuthMethod::kPrivateKeyJwt) {
    return Fail(ErrorCode::kUnauthenticated,
                "service provider {} authenticates with its TLS client certificate, not "
                "private_key_jwt",
                sp->id);
  }
  const std::string audiences[] = {options_.public_url, options_.public_url + std::string(path)};
  const int64_t now = clock_.NowMillis();
  TROAD_ASSIGN_OR_RETURN(auto verified,
                         crypto::VerifyClientAssertion(parsed, sp->jwks, audiences, now / 1000));
  TROAD_RETURN_IF_ERROR(store::AcceptJtiOnce(db_, sp->id, verified.jti, verified.exp, now));
  // Authenticated; now whether it may call at all, and from there.
  if (!sp->enabled) {
    return Fail(ErrorCode::kPermissionDenied, "service provider {} is disabled", sp->id);
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(remote), ec);
  if (ec || !SourceAllowed(*sp, address)) {
    return Fail(ErrorCode::kPermissionDenied,
                "service provider {} may not call from {} (allowed_sources)", sp->id,
                EscapeForLog(remote, 64));
  }
  return *sp;
}

http::Response Api::ServiceProviderApi(const http::Request& req, std::string_view path,
                                       std::string_view remote) {
  if (req.method() != bhttp::verb::post) {
    return Refusal(405, "method_not_allowed", "the service-provider API takes POST");
  }
  auto content_type = req[bhttp::field::content_type];
  if (!std::string_view(content_type.data(), content_type.size())
           .starts_with("application/x-www-form-urlencoded")) {
    return Refusal(415, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  auto form = http::ParseForm(req.body());
  if (!form) return Refusal(400, "invalid_request", form.error().message());
  const std::string event = "sp " + std::string(path.substr(path.rfind('/') + 1));

  auto sp = AuthenticateServiceProvider(*form, path, remote);
  if (!sp) {
    bool denied = sp.error().code() == ErrorCode::kPermissionDenied;
    Audit(event, "refused", "", remote, sp.error().message(), "service provider");
    auto res = Refusal(denied ? 403 : 401, denied ? "access_denied" : "invalid_client",
                       sp.error().message());
    if (!denied) res.set(bhttp::field::www_authenticate, "private_key_jwt");
    return res;
  }
  auto refuse = [&](unsigned status, std::string_view error, const std::string& why) {
    Audit(event, "refused", "", remote, why, sp->id);
    return Refusal(status, error, why);
  };

  if (path == "/api/sp/v1/requests") {
    std::string mode_name = form->Value("mode");
    if (mode_name.empty()) mode_name = "online";
    Mode mode = Mode::kOnline;
    SpMode needed = SpMode::kOnline;
    if (mode_name == "multi_person") {
      mode = Mode::kMultiPerson;
      needed = SpMode::kMultiPerson;
    } else if (mode_name != "online") {
      return refuse(400, "invalid_request",
                    "mode: online or multi_person, not \"" + EscapeForLog(mode_name, 40) + "\"");
    }
    if (std::find(sp->modes.begin(), sp->modes.end(), needed) == sp->modes.end()) {
      return refuse(403, "access_denied",
                    sp->id + " is not registered for the " + mode_name + " mode");
    }
    std::vector<std::string> datasets = http::SplitSpaces(form->Value("datasets"));
    if (datasets.empty() || datasets.size() > kMaxDatasetsPerRequest) {
      return refuse(400, "invalid_request", "datasets: 1 to 50 catalogue ids, space-separated");
    }
    std::set<std::string> unique(datasets.begin(), datasets.end());
    if (unique.size() != datasets.size()) {
      return refuse(400, "invalid_request", "datasets: a dataset is asked for twice");
    }
    for (const auto& d : datasets) {
      // Outside its scopes first: a provider learns nothing of datasets it may not ask for.
      if (std::find(sp->datasets.begin(), sp->datasets.end(), d) == sp->datasets.end()) {
        return refuse(403, "access_denied",
                      "dataset " + EscapeForLog(d, 64) + " is outside " + sp->id + "'s scopes");
      }
      auto dataset = catalogue_.Get(d);
      if (!dataset || !dataset->enabled) {
        return refuse(501, "dataset_not_offered",
                      "dataset " + d + " is not offered at the moment (disabled in the catalogue)");
      }
    }
    std::string purpose = form->Value("purpose");
    if (std::find(sp->purposes.begin(), sp->purposes.end(), purpose) == sp->purposes.end()) {
      return refuse(400, "invalid_request",
                    "purpose: must be one of the purposes registered for " + sp->id);
    }
    std::string return_uri = form->Value("return_uri");
    if (std::find(sp->redirect_uris.begin(), sp->redirect_uris.end(), return_uri) ==
        sp->redirect_uris.end()) {
      return refuse(400, "invalid_request",
                    "return_uri: not one of the redirect URIs registered for " + sp->id +
                        " (matched exactly)");
    }
    int64_t lifetime = kDefaultLifetimeS;
    if (std::string text = form->Value("expires_in"); !text.empty()) {
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      int64_t max = mode == Mode::kMultiPerson ? 7 * 86400 : 3600;
      if (end == text.c_str() || *end != '\0' || v < 300 || v > max) {
        return refuse(400, "invalid_request",
                      "expires_in: whole seconds, 300 to " + std::to_string(max));
      }
      lifetime = v;
    }
    NewTransaction n;
    n.mode = mode;
    n.service_provider = sp->id;
    n.datasets = datasets;
    n.purpose = purpose;
    n.return_uri = return_uri;
    n.lifetime = std::chrono::seconds(lifetime);
    auto started = transactions_.Create(n);
    if (!started) return refuse(500, "server_error", started.error().message());
    // The person is invited by the link the provider sends them to.
    auto invited = transactions_.Apply(started->transaction.id, TransactionEvent::kInvited);
    if (!invited) return refuse(500, "server_error", invited.error().message());
    Audit(event, "ok", invited->id, remote, fmt::format("{} dataset(s)", datasets.size()), sp->id);
    return http::JsonResponse(
        201, {{"transaction", invited->id},
              {"state", StateName(invited->state)},
              {"start_url", options_.public_url + "/start?ref=" + started->ref},
              {"expires_at", FormatRfc3339(FromUnixMillis(invited->deadline_at))}});
  }
  if (path == "/api/sp/v1/transactions/status") {
    auto t = transactions_.Get(form->Value("transaction"));
    // Another provider's transaction is as unknown as a missing one.
    if (!t || t->service_provider != sp->id) {
      return Refusal(404, "not_found", "no such transaction for " + sp->id);
    }
    return http::JsonResponse(200,
                              {{"transaction", t->id},
                               {"mode", ModeName(t->mode)},
                               {"state", StateName(t->state)},
                               {"final", IsFinal(t->state)},
                               {"deadline_at", FormatRfc3339(FromUnixMillis(t->deadline_at))}});
  }
  return Refusal(404, "not_found", "no such service-provider resource");
}

}  // namespace troad::mydata
