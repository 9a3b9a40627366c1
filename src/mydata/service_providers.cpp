#include "mydata/service_providers.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <optional>
#include <set>

#include "core/encoding.h"
#include "core/json.h"
#include "core/net.h"
#include "crypto/jose.h"
#include "mydata/validate.h"

namespace troad::mydata {
namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view kColumns =
    "id, name_zh, name_en, datasets, modes, redirect_uris, auth_method, jwks, cert_sha256, "
    "notify_url, allowed_sources, purposes, enabled, created_at, updated_at";
constexpr size_t kMaxNameBytes = 400;
constexpr size_t kMaxPurposeBytes = 400;
constexpr size_t kMaxDatasets = 100;
constexpr size_t kMaxRedirectUris = 10;
constexpr size_t kMaxSources = 50;
constexpr size_t kMaxPurposes = 20;
constexpr size_t kMaxJwksKeys = 10;

constexpr SpMode kModes[] = {SpMode::kOnline, SpMode::kCounter, SpMode::kMultiPerson};

std::optional<SpMode> ModeFromName(std::string_view name) {
  for (SpMode m : kModes) {
    if (SpModeName(m) == name) return m;
  }
  return std::nullopt;
}

std::optional<SpAuthMethod> AuthMethodFromName(std::string_view name) {
  if (name == "private_key_jwt") return SpAuthMethod::kPrivateKeyJwt;
  if (name == "tls_client_auth") return SpAuthMethod::kTlsClientAuth;
  return std::nullopt;
}

// An allowed source as a network: "192.0.2.10" is 192.0.2.10/32, "2001:db8::1" /128.
struct Network {
  bool v6 = false;
  ip::network_v4 n4;
  ip::network_v6 n6;
};

Result<Network> ParseSource(std::string_view text) {
  boost::system::error_code ec;
  std::string s(text);
  Network n;
  if (s.find('/') == std::string::npos) {
    auto address = ip::make_address(s, ec);
    if (!ec) {
      n.v6 = address.is_v6();
      if (n.v6) {
        n.n6 = ip::network_v6(address.to_v6(), 128);
      } else {
        n.n4 = ip::network_v4(address.to_v4(), 32);
      }
      return n;
    }
  } else if (s.find(':') != std::string::npos) {
    n.v6 = true;
    n.n6 = ip::make_network_v6(s, ec);
    if (!ec && n.n6.canonical() == n.n6) return n;
  } else {
    n.n4 = ip::make_network_v4(s, ec);
    if (!ec && n.n4.canonical() == n.n4) return n;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "allowed_sources: \"{}\" is not an IP address or a CIDR prefix with no host bits "
              "set (192.0.2.0/24, 2001:db8::/32)",
              EscapeForLog(text, 80));
}

template <typename T>
bool HasRepeats(const std::vector<T>& items) {
  std::vector<T> sorted = items;
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
}

Result<std::vector<std::string>> StringListFromColumn(const store::Row& row, size_t column,
                                                      std::string_view name) {
  TROAD_ASSIGN_OR_RETURN(std::string text, row.Text(column));
  auto json = ParseJson(text, name);
  if (!json || !json->is_array()) {
    return Fail(ErrorCode::kDataLoss, "service_providers.{} is not a JSON array", name);
  }
  std::vector<std::string> out;
  for (const auto& v : *json) {
    if (!v.is_string()) {
      return Fail(ErrorCode::kDataLoss, "service_providers.{} holds a non-string", name);
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<ServiceProvider> FromRow(const store::Row& row) {
  ServiceProvider sp;
  TROAD_ASSIGN_OR_RETURN(sp.id, row.Text(0));
  TROAD_ASSIGN_OR_RETURN(sp.name_zh, row.Text(1));
  TROAD_ASSIGN_OR_RETURN(sp.name_en, row.Text(2));
  TROAD_ASSIGN_OR_RETURN(sp.datasets, StringListFromColumn(row, 3, "datasets"));
  TROAD_ASSIGN_OR_RETURN(auto modes, StringListFromColumn(row, 4, "modes"));
  for (const auto& m : modes) {
    auto mode = ModeFromName(m);
    if (!mode) return Fail(ErrorCode::kDataLoss, "service provider {}: mode \"{}\"", sp.id, m);
    sp.modes.push_back(*mode);
  }
  TROAD_ASSIGN_OR_RETURN(sp.redirect_uris, StringListFromColumn(row, 5, "redirect_uris"));
  TROAD_ASSIGN_OR_RETURN(std::string method, row.Text(6));
  auto auth = AuthMethodFromName(method);
  if (!auth) return Fail(ErrorCode::kDataLoss, "service provider {}: auth \"{}\"", sp.id, method);
  sp.auth_method = *auth;
  TROAD_ASSIGN_OR_RETURN(std::string jwks, row.Text(7));
  auto parsed = ParseJson(jwks, "jwks");
  if (!parsed) return Fail(ErrorCode::kDataLoss, "service provider {}: jwks unreadable", sp.id);
  sp.jwks = std::move(*parsed);
  TROAD_ASSIGN_OR_RETURN(sp.cert_sha256, row.Text(8));
  TROAD_ASSIGN_OR_RETURN(sp.notify_url, row.Text(9));
  TROAD_ASSIGN_OR_RETURN(sp.allowed_sources, StringListFromColumn(row, 10, "allowed_sources"));
  TROAD_ASSIGN_OR_RETURN(sp.purposes, StringListFromColumn(row, 11, "purposes"));
  TROAD_ASSIGN_OR_RETURN(int64_t enabled, row.Int(12));
  sp.enabled = enabled != 0;
  TROAD_ASSIGN_OR_RETURN(sp.created_at, row.Int(13));
  TROAD_ASSIGN_OR_RETURN(sp.updated_at, row.Int(14));
  // As for datasets: a row that no longer passes the rules is not acted on.
  if (auto st = ValidateServiceProvider(sp); !st) {
    return Fail(ErrorCode::kDataLoss, "service_providers row {}: {}", sp.id, st.error().message());
  }
  return sp;
}

std::vector<store::Value> RowValues(const ServiceProvider& sp) {
  nlohmann::json modes = nlohmann::json::array();
  for (SpMode m : sp.modes) modes.push_back(SpModeName(m));
  return {
      sp.name_zh,
      sp.name_en,
      nlohmann::json(sp.datasets).dump(),
      modes.dump(),
      nlohmann::json(sp.redirect_uris).dump(),
      std::string(SpAuthMethodName(sp.auth_method)),
      (sp.auth_method == SpAuthMethod::kPrivateKeyJwt ? sp.jwks : nlohmann::json::object()).dump(),
      sp.cert_sha256,
      sp.notify_url,
      nlohmann::json(sp.allowed_sources).dump(),
      nlohmann::json(sp.purposes).dump(),
      int64_t{sp.enabled}};
}

}  // namespace

std::string_view SpModeName(SpMode mode) {
  switch (mode) {
    case SpMode::kOnline:
      return "online";
    case SpMode::kCounter:
      return "counter";
    case SpMode::kMultiPerson:
      return "multi_person";
  }
  return "?";
}

std::string_view SpAuthMethodName(SpAuthMethod method) {
  return method == SpAuthMethod::kPrivateKeyJwt ? "private_key_jwt" : "tls_client_auth";
}

Status ValidateServiceProvider(const ServiceProvider& sp) {
  TROAD_RETURN_IF_ERROR(ValidateId("id", sp.id));
  TROAD_RETURN_IF_ERROR(ValidateText("name zh-TW", sp.name_zh, kMaxNameBytes));
  TROAD_RETURN_IF_ERROR(ValidateText("name en", sp.name_en, kMaxNameBytes));
  if (sp.datasets.empty() || sp.datasets.size() > kMaxDatasets) {
    return Fail(ErrorCode::kInvalidArgument, "datasets: 1 to {} catalogue ids, not {}",
                kMaxDatasets, sp.datasets.size());
  }
  for (const auto& d : sp.datasets) TROAD_RETURN_IF_ERROR(ValidateId("datasets", d));
  if (HasRepeats(sp.datasets)) {
    return Fail(ErrorCode::kInvalidArgument, "datasets: a dataset is listed twice");
  }
  if (sp.modes.empty() || HasRepeats(sp.modes)) {
    return Fail(ErrorCode::kInvalidArgument,
                "modes: one or more of online, counter, multi_person, each once");
  }
  bool redirects_people =
      std::any_of(sp.modes.begin(), sp.modes.end(), [](SpMode m) { return m != SpMode::kCounter; });
  if (sp.redirect_uris.size() > kMaxRedirectUris ||
      (redirects_people && sp.redirect_uris.empty())) {
    return Fail(ErrorCode::kInvalidArgument,
                "redirect_uris: 1 to {} exact URIs (required for the online and multi_person "
                "modes), not {}",
                kMaxRedirectUris, sp.redirect_uris.size());
  }
  for (const auto& uri : sp.redirect_uris) {
    if (auto st = ValidateRedirectUri(uri); !st) {
      return Fail(ErrorCode::kInvalidArgument, "redirect_uris: {}", st.error().message());
    }
  }
  if (sp.auth_method == SpAuthMethod::kPrivateKeyJwt) {
    const auto* keys = sp.jwks.is_object() && sp.jwks.contains("keys") ? &sp.jwks["keys"] : nullptr;
    if (!keys || !keys->is_array() || keys->empty() || keys->size() > kMaxJwksKeys) {
      return Fail(ErrorCode::kInvalidArgument,
                  "auth.jwks: private_key_jwt needs a JWKS {{\"keys\":[…]}} with 1 to {} keys",
                  kMaxJwksKeys);
    }
    for (const auto& jwk : *keys) {
      if (auto key = crypto::PublicKeyFromJwk(jwk); !key) {
        return Fail(ErrorCode::kInvalidArgument, "auth.jwks: {}", key.error().message());
      }
    }
    if (!sp.cert_sha256.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "auth.cert_sha256: only for tls_client_auth (one method per provider)");
    }
  } else {
    if (sp.cert_sha256.size() != 64 ||
        !std::all_of(sp.cert_sha256.begin(), sp.cert_sha256.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      return Fail(ErrorCode::kInvalidArgument,
                  "auth.cert_sha256: 64 lower-case hex digits (SHA-256 of the client "
                  "certificate's DER: openssl x509 -outform DER | sha256sum), not \"{}\"",
                  EscapeForLog(sp.cert_sha256, 80));
    }
    if (!sp.jwks.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "auth.jwks: only for private_key_jwt (one method per provider)");
    }
  }
  if (!sp.notify_url.empty()) {
    if (auto st = ValidateRedirectUri(sp.notify_url); !st) {
      return Fail(ErrorCode::kInvalidArgument, "notify_url: {}", st.error().message());
    }
  }
  if (sp.allowed_sources.empty() || sp.allowed_sources.size() > kMaxSources) {
    return Fail(ErrorCode::kInvalidArgument,
                "allowed_sources: 1 to {} IP addresses or CIDR prefixes, not {}", kMaxSources,
                sp.allowed_sources.size());
  }
  for (const auto& source : sp.allowed_sources) TROAD_RETURN_IF_ERROR(ParseSource(source));
  if (sp.purposes.empty() || sp.purposes.size() > kMaxPurposes) {
    return Fail(ErrorCode::kInvalidArgument, "purposes: 1 to {} texts, not {}", kMaxPurposes,
                sp.purposes.size());
  }
  for (const auto& p : sp.purposes) {
    TROAD_RETURN_IF_ERROR(ValidateText("purposes", p, kMaxPurposeBytes));
  }
  return Ok();
}

bool SourceAllowed(const ServiceProvider& sp, const ip::address& address) {
  ip::address a = address;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  for (const auto& source : sp.allowed_sources) {
    auto n = ParseSource(source);
    if (!n) continue;  // validated when registered; a bad row is refused on load
    if (n->v6 && a.is_v6()) {
      if (ip::network_v6(a.to_v6(), n->n6.prefix_length()).canonical() == n->n6) return true;
    } else if (!n->v6 && a.is_v4()) {
      if (ip::network_v4(a.to_v4(), n->n4.prefix_length()).canonical() == n->n4) return true;
    }
  }
  return false;
}

nlohmann::json ServiceProviderToJson(const ServiceProvider& sp) {
  nlohmann::json modes = nlohmann::json::array();
  for (SpMode m : sp.modes) modes.push_back(SpModeName(m));
  nlohmann::json auth = {{"method", SpAuthMethodName(sp.auth_method)}};
  if (sp.auth_method == SpAuthMethod::kPrivateKeyJwt) {
    auth["jwks"] = sp.jwks;
  } else {
    auth["cert_sha256"] = sp.cert_sha256;
  }
  return {{"id", sp.id},
          {"name", {{"zh-TW", sp.name_zh}, {"en", sp.name_en}}},
          {"datasets", sp.datasets},
          {"modes", modes},
          {"redirect_uris", sp.redirect_uris},
          {"auth", auth},
          {"notify_url", sp.notify_url},
          {"allowed_sources", sp.allowed_sources},
          {"purposes", sp.purposes},
          {"enabled", sp.enabled}};
}

Result<ServiceProvider> ServiceProviderFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "a service provider is a JSON object");
  }
  JsonErrors errors;
  JsonView in(&json, "", &errors);
  ServiceProvider sp;
  sp.id = in.String("id");
  JsonView name = in.Object("name");
  sp.name_zh = name.String("zh-TW");
  sp.name_en = name.String("en");
  sp.datasets = in.StringArray("datasets", true);
  std::vector<std::string> modes = in.StringArray("modes", true);
  for (const auto& m : modes) {
    auto mode = ModeFromName(m);
    if (!mode) {
      in.Error("modes", fmt::format("\"{}\" is not one of online, counter, multi_person",
                                    EscapeForLog(m, 40)));
    } else {
      sp.modes.push_back(*mode);
    }
  }
  sp.redirect_uris = in.StringArray("redirect_uris");
  JsonView auth = in.Object("auth");
  std::string method = auth.String("method");
  if (auto m = AuthMethodFromName(method)) {
    sp.auth_method = *m;
  } else if (auth.present() && !method.empty()) {
    auth.Error("method", "private_key_jwt or tls_client_auth");
  }
  if (auto a = json.find("auth"); a != json.end() && a->is_object()) {
    if (auto j = a->find("jwks"); j != a->end()) sp.jwks = *j;
  }
  sp.cert_sha256 = auth.String("cert_sha256", false, 64);
  sp.notify_url = in.String("notify_url", false, 2000);
  sp.allowed_sources = in.StringArray("allowed_sources", true);
  sp.purposes = in.StringArray("purposes", true);
  sp.enabled = in.Bool("enabled", true);
  TROAD_RETURN_IF_ERROR(errors.ToStatus("service provider"));
  TROAD_RETURN_IF_ERROR(ValidateServiceProvider(sp));
  return sp;
}

Status ServiceProviders::CheckDatasetsExist(const ServiceProvider& sp) {
  for (const auto& d : sp.datasets) {
    TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT id FROM datasets WHERE id = ?", {d}));
    if (rows.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "datasets: {} is not in the catalogue", d);
    }
  }
  return Ok();
}

Status ServiceProviders::Add(const ServiceProvider& sp) {
  TROAD_RETURN_IF_ERROR(ValidateServiceProvider(sp));
  TROAD_RETURN_IF_ERROR(CheckDatasetsExist(sp));
  TROAD_ASSIGN_OR_RETURN(auto existing,
                         db_.Query("SELECT id FROM service_providers WHERE id = ?", {sp.id}));
  if (!existing.empty()) {
    return Fail(ErrorCode::kAlreadyExists, "service provider {} is already registered", sp.id);
  }
  int64_t now = clock_.NowMillis();
  std::vector<store::Value> values{sp.id};
  for (auto& v : RowValues(sp)) values.push_back(std::move(v));
  values.push_back(now);
  values.push_back(now);
  return db_
      .Execute(fmt::format("INSERT INTO service_providers ({}) VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           kColumns),
               values)
      .map([](int64_t) {});
}

Status ServiceProviders::Update(const ServiceProvider& sp) {
  TROAD_RETURN_IF_ERROR(ValidateServiceProvider(sp));
  TROAD_RETURN_IF_ERROR(CheckDatasetsExist(sp));
  std::vector<store::Value> values = RowValues(sp);
  values.push_back(clock_.NowMillis());
  values.push_back(sp.id);
  TROAD_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE service_providers SET name_zh = ?, name_en = ?, datasets = ?, "
                  "modes = ?, redirect_uris = ?, auth_method = ?, jwks = ?, cert_sha256 = ?, "
                  "notify_url = ?, allowed_sources = ?, purposes = ?, enabled = ?, "
                  "updated_at = ? WHERE id = ?",
                  values));
  if (changed == 0) return Fail(ErrorCode::kNotFound, "no service provider {}", sp.id);
  return Ok();
}

Result<ServiceProvider> ServiceProviders::Get(std::string_view id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query(fmt::format("SELECT {} FROM service_providers WHERE id = ?", kColumns),
                           {std::string(id)}));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "no service provider {}", EscapeForLog(id, 80));
  }
  return FromRow(rows[0]);
}

Result<std::vector<ServiceProvider>> ServiceProviders::List() {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query(fmt::format("SELECT {} FROM service_providers ORDER BY id", kColumns)));
  std::vector<ServiceProvider> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(ServiceProvider sp, FromRow(row));
    out.push_back(std::move(sp));
  }
  return out;
}

Status ServiceProviders::SetEnabled(std::string_view id, bool enabled) {
  TROAD_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE service_providers SET enabled = ?, updated_at = ? WHERE id = ?",
                  {int64_t{enabled}, clock_.NowMillis(), std::string(id)}));
  if (changed == 0) {
    return Fail(ErrorCode::kNotFound, "no service provider {}", EscapeForLog(id, 80));
  }
  return Ok();
}

}  // namespace troad::mydata
