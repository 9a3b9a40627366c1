#include "mydata/api.h"

#include <spdlog/spdlog.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "http/form.h"

namespace troad::mydata {
namespace {

namespace bhttp = http::bhttp;

constexpr size_t kMaxAuditEntries = 500;

http::Response JsonError(unsigned status, std::string_view error, std::string_view description) {
  return http::JsonResponse(status, {{"error", error}, {"error_description", description}});
}

http::Response ErrorResponse(const Error& e) {
  return JsonError(static_cast<unsigned>(HttpStatusFor(e.code())),
                   std::string(ErrorCodeName(e.code())), e.message());
}

// A path below `prefix` as {id, action}: "/api/v1/datasets/tax.income/disable" →
// {"tax.income", "disable"}. The id is left as sent (ids are ASCII; the registries
// refuse anything else).
std::pair<std::string, std::string> IdAndAction(std::string_view rest) {
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {std::string(rest), ""};
  return {std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

}  // namespace

Api::Api(store::Database& db, const Clock& clock, ApiOptions options)
    : db_(db),
      clock_(clock),
      options_(std::move(options)),
      catalogue_(db, clock),
      providers_(db, clock),
      transactions_(db, clock),
      keys_(db, clock, options_.consent_keys) {}

void Api::Audit(std::string_view event, std::string_view outcome, std::string_view subject,
                std::string_view remote, std::string_view detail, std::string_view actor) {
  auto st = db_.Execute(
      "INSERT INTO audit (at, event, outcome, actor, subject, remote, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {clock_.NowMillis(), std::string(event), std::string(outcome), std::string(actor),
       std::string(subject), std::string(remote), std::string(detail)});
  if (!st) spdlog::error("audit: {}", st.error().message());
  spdlog::log(outcome == "ok" ? spdlog::level::info : spdlog::level::warn,
              "{} {} {} actor={} remote={} {}", event, outcome, subject, actor, remote, detail);
}

http::Response Api::Serve(const http::Request& req, std::string_view remote) {
  std::string_view path = http::PathOf(req.target());
  if (path == "/healthz" && req.method() == bhttp::verb::get) {
    // The database answers: the one thing this process cannot work without.
    if (auto rows = db_.Query("SELECT 1"); !rows) {
      return JsonError(503, "unavailable", rows.error().message());
    }
    return http::JsonResponse(200, {{"status", "ok"}});
  }
  if (path == "/jwks" && req.method() == bhttp::verb::get) {
    // The public keys consent records are signed with, current and retired.
    auto jwks = keys_.Jwks();
    if (!jwks) return ErrorResponse(jwks.error());
    auto res = http::MakeResponse(200, jwks->dump(), "application/jwk-set+json");
    res.set(bhttp::field::cache_control, "max-age=300");
    return res;
  }
  if (path.starts_with("/api/v1/")) return Management(req, path, remote);
  if (path.starts_with("/api/sp/v1/")) return ServiceProviderApi(req, path, remote);
  return JsonError(404, "not_found", "no such resource");
}

http::Response Api::Management(const http::Request& req, std::string_view p,
                               std::string_view remote) {
  if (options_.management_token_sha256.empty()) {
    return JsonError(404, "not_found", "the management API is off (no management token)");
  }
  auto authorization = req[bhttp::field::authorization];
  std::string_view header(authorization.data(), authorization.size());
  if (!header.starts_with("Bearer ") ||
      !crypto::ConstantTimeEqual(crypto::Sha256Hex(header.substr(7)),
                                 options_.management_token_sha256)) {
    Audit("management", "refused", "", remote, "wrong or missing management token");
    auto res = JsonError(401, "unauthorized", "a valid management token is required (Bearer)");
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"troad mydata management\"");
    return res;
  }
  const auto method = req.method();
  auto body = [&]() -> Result<nlohmann::json> { return ParseJson(req.body(), "request body", 16); };
  auto fail = [&](std::string_view event, std::string_view subject, const Error& e) {
    if (e.code() != ErrorCode::kNotFound) Audit(event, "refused", subject, remote, e.message());
    return ErrorResponse(e);
  };
  auto done = [&](std::string_view event, std::string_view subject) {
    Audit(event, "ok", subject, remote, "");
  };

  // Datasets.
  if (p == "/api/v1/datasets" && method == bhttp::verb::get) {
    auto list = catalogue_.List(true);
    if (!list) return ErrorResponse(list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : *list) out.push_back(DatasetToJson(d));
    return http::JsonResponse(200, {{"datasets", out}});
  }
  if (p == "/api/v1/datasets" && method == bhttp::verb::post) {
    auto json = body();
    if (!json) return fail("dataset add", "", json.error());
    auto d = DatasetFromJson(*json);
    if (!d) return fail("dataset add", "", d.error());
    if (auto st = catalogue_.Add(*d); !st) return fail("dataset add", d->id, st.error());
    done("dataset add", d->id);
    auto added = catalogue_.Get(d->id);
    if (!added) return ErrorResponse(added.error());
    return http::JsonResponse(201, DatasetToJson(*added));
  }
  if (p.starts_with("/api/v1/datasets/")) {
    auto [id, action] = IdAndAction(p.substr(17));
    if (action.empty() && method == bhttp::verb::get) {
      auto d = catalogue_.Get(id);
      if (!d) return ErrorResponse(d.error());
      return http::JsonResponse(200, DatasetToJson(*d));
    }
    if (action.empty() && method == bhttp::verb::put) {
      auto json = body();
      if (!json) return fail("dataset update", id, json.error());
      auto d = DatasetFromJson(*json);
      if (!d) return fail("dataset update", id, d.error());
      if (d->id != id) {
        return fail("dataset update", id,
                    Error(ErrorCode::kInvalidArgument, "id: the body's id differs from the URL's"));
      }
      if (auto st = catalogue_.Update(*d); !st) return fail("dataset update", id, st.error());
      done("dataset update", id);
      return http::JsonResponse(200, DatasetToJson(*catalogue_.Get(id)));
    }
    if (method == bhttp::verb::post && (action == "disable" || action == "enable")) {
      if (auto st = catalogue_.SetEnabled(id, action == "enable"); !st) {
        return fail("dataset " + action, id, st.error());
      }
      done("dataset " + action, id);
      return http::JsonResponse(200, DatasetToJson(*catalogue_.Get(id)));
    }
  }

  // Service providers.
  if (p == "/api/v1/service-providers" && method == bhttp::verb::get) {
    auto list = providers_.List();
    if (!list) return ErrorResponse(list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& sp : *list) out.push_back(ServiceProviderToJson(sp));
    return http::JsonResponse(200, {{"service_providers", out}});
  }
  if (p == "/api/v1/service-providers" && method == bhttp::verb::post) {
    auto json = body();
    if (!json) return fail("service provider add", "", json.error());
    auto sp = ServiceProviderFromJson(*json);
    if (!sp) return fail("service provider add", "", sp.error());
    if (auto st = providers_.Add(*sp); !st) return fail("service provider add", sp->id, st.error());
    done("service provider add", sp->id);
    auto added = providers_.Get(sp->id);
    if (!added) return ErrorResponse(added.error());
    return http::JsonResponse(201, ServiceProviderToJson(*added));
  }
  if (p.starts_with("/api/v1/service-providers/")) {
    auto [id, action] = IdAndAction(p.substr(26));
    if (action.empty() && method == bhttp::verb::get) {
      auto sp = providers_.Get(id);
      if (!sp) return ErrorResponse(sp.error());
      return http::JsonResponse(200, ServiceProviderToJson(*sp));
    }
    if (action.empty() && method == bhttp::verb::put) {
      auto json = body();
      if (!json) return fail("service provider update", id, json.error());
      auto sp = ServiceProviderFromJson(*json);
      if (!sp) return fail("service provider update", id, sp.error());
      if (sp->id != id) {
        return fail("service provider update", id,
                    Error(ErrorCode::kInvalidArgument, "id: the body's id differs from the URL's"));
      }
      if (auto st = providers_.Update(*sp); !st) {
        return fail("service provider update", id, st.error());
      }
      done("service provider update", id);
      return http::JsonResponse(200, ServiceProviderToJson(*providers_.Get(id)));
    }
    if (method == bhttp::verb::post && (action == "disable" || action == "enable")) {
      if (auto st = providers_.SetEnabled(id, action == "enable"); !st) {
        return fail("service provider " + action, id, st.error());
      }
      done("service provider " + action, id);
      return http::JsonResponse(200, ServiceProviderToJson(*providers_.Get(id)));
    }
  }

  if (p == "/api/v1/keys/rotate" && method == bhttp::verb::post) {
    auto kid = keys_.Rotate();
    if (!kid) return fail("consent key rotate", "", kid.error());
    done("consent key rotate", *kid);
    return http::JsonResponse(200, {{"kid", *kid}});
  }
  if (p == "/api/v1/audit" && method == bhttp::verb::get) {
    auto rows = db_.Query(
        "SELECT id, at, event, outcome, actor, subject, remote, detail FROM audit "
        "ORDER BY id DESC LIMIT ?",
        {static_cast<int64_t>(kMaxAuditEntries)});
    if (!rows) return ErrorResponse(rows.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : *rows) {
      auto id = row.Int(0);
      auto at = row.Int(1);
      if (!id || !at) return ErrorResponse(Error(ErrorCode::kDataLoss, "audit row is malformed"));
      nlohmann::json e = {{"id", *id}, {"at", FormatRfc3339(FromUnixMillis(*at))}};
      const char* names[] = {"event", "outcome", "actor", "subject", "remote", "detail"};
      for (size_t i = 0; i < 6; ++i) e[names[i]] = row.Text(i + 2).value_or("");
      out.push_back(std::move(e));
    }
    return http::JsonResponse(200, {{"entries", out}});
  }
  return JsonError(404, "not_found", "no such management resource");
}

}  // namespace troad::mydata
