#include "globalconf/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/file.h"
#include "core/json.h"
#include "core/net.h"

namespace troad::globalconf {
namespace {

constexpr size_t kMaxDocumentBytes = 64 * 1024 * 1024;

std::vector<Endpoint> ParseEndpoints(JsonView& parent, const std::string& key) {
  std::vector<Endpoint> out;
  for (JsonView& e : parent.Array(key)) {
    Endpoint ep;
    ep.method = e.String("method");
    ep.path = e.String("path");
    if (!ep.method.empty() && !ep.path.empty()) {
      if (auto problem = EndpointProblem(ep)) e.Error(problem->first, problem->second);
    }
    out.push_back(std::move(ep));
  }
  return out;
}

}  // namespace

std::vector<crypto::Certificate> Gateway::AuthCertificates() const {
  std::vector<crypto::Certificate> all = {auth_certificate};
  all.insert(all.end(), additional_auth_certificates.begin(), additional_auth_certificates.end());
  return all;
}

std::string Gateway::AuthCertificatePins() const {
  if (!parsed_pins.empty()) return parsed_pins;
  std::string pins = auth_certificate.Sha256Fingerprint();
  for (const auto& c : additional_auth_certificates) pins += "," + c.Sha256Fingerprint();
  return pins;
}

std::optional<std::pair<std::string, std::string>> EndpointProblem(const Endpoint& e) {
  static const std::set<std::string> kMethods = {"*",      "GET",  "POST",    "PUT",  "PATCH",
                                                 "DELETE", "HEAD", "OPTIONS", "TRACE"};
  if (e.method.empty()) return std::make_pair("method", "is required");
  if (!kMethods.count(e.method)) {
    return std::make_pair("method", fmt::format("\"{}\" is not an HTTP method or \"*\"", e.method));
  }
  if (e.path.empty()) return std::make_pair("path", "is required");
  if (e.path != "*" && e.path.front() != '/') {
    return std::make_pair("path", "must be \"*\" or start with '/'");
  }
  if (e.path.size() > 2048) return std::make_pair("path", "is longer than 2048 bytes");
  return std::nullopt;
}

Result<std::shared_ptr<const GlobalConf>> GlobalConf::LoadFile(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto conf = Parse(text);
  if (!conf) return Fail(std::move(conf).error().Context(path));
  return conf;
}

Result<std::shared_ptr<const GlobalConf>> GlobalConf::Parse(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) {
    return Fail(ErrorCode::kInvalidArgument, "global configuration is larger than {} bytes",
                kMaxDocumentBytes);
  }
  TROAD_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(text, "global configuration"));
  std::shared_ptr<GlobalConf> conf(new GlobalConf());
  conf->source_ = std::string(text);
  JsonErrors errors;
  JsonView root(&doc, "", &errors);

  std::string format = root.String("format");
  if (!format.empty() && format != kFormat) {
    root.Error("format", fmt::format("\"{}\" is not \"{}\"", format, kFormat));
  }
  conf->instance_ = root.String("instance");
  if (!conf->instance_.empty()) {
    if (auto st = ValidateIdPart(conf->instance_, "instance"); !st) {
      root.Error("instance", st.error().message());
    }
  }
  conf->version_ = root.Int("version", true, 0, 1, INT64_MAX);
  auto parse_time = [&](const std::string& key, SystemTime& out) {
    std::string t = root.String(key);
    if (t.empty()) return;
    auto parsed = ParseRfc3339(t);
    if (!parsed) {
      root.Error(key, parsed.error().message());
    } else {
      out = *parsed;
    }
  };
  parse_time("issued_at", conf->issued_at_);
  parse_time("expires_at", conf->expires_at_);
  if (errors.ok() && conf->expires_at_ <= conf->issued_at_) {
    root.Error("expires_at", "is not after issued_at");
  }

  JsonView settings = root.Object("settings", false);
  conf->settings_.max_clock_skew_ms =
      settings.Int("max_clock_skew_ms", false, 60'000, 1'000, 3'600'000);
  conf->settings_.refresh_interval_s = settings.Int("refresh_interval_s", false, 60, 1, 86'400);

  auto parse_cert = [&](JsonView& where, const std::string& path,
                        const std::string& pem) -> std::optional<crypto::Certificate> {
    auto cert = crypto::Certificate::FromPem(pem);
    if (!cert) {
      // An array element is named by its own path: "trusted_cas[0]", not "trusted_cas[0].".
      if (path.empty()) {
        where.Error(cert.error().message());
      } else {
        where.Error(path, cert.error().message());
      }
      return std::nullopt;
    }
    return *cert;
  };

  for (JsonView& el : root.Array("trusted_cas", true)) {
    if (auto cert = parse_cert(el, "", el.AsString())) conf->trusted_cas_.push_back(*cert);
  }
  if (errors.ok() && conf->trusted_cas_.empty()) root.Error("trusted_cas", "must not be empty");
  {
    std::vector<JsonView> tsas = root.Array("trusted_timestamping_certificates");
    if (tsas.size() > kMaxTimestampingCertificates) {
      root.Error("trusted_timestamping_certificates",
                 fmt::format("more than {} certificates", kMaxTimestampingCertificates));
    }
    std::set<std::string> seen;
    for (JsonView& el : tsas) {
      auto cert = parse_cert(el, "", el.AsString());
      if (!cert) continue;
      if (!cert->IsTimestampingCertificate()) {
        el.Error("is not a timestamping certificate (extendedKeyUsage timeStamping, critical)");
      } else if (!seen.insert(cert->Sha256Fingerprint()).second) {
        el.Error("is listed twice");
      } else {
        conf->timestamping_certificates_.push_back(*cert);
      }
    }
  }

  {
    JsonView ledger = root.Object("ledger", false);
    if (ledger.present()) {
      std::string url = ledger.String("url", true, 2048);
      std::string origin = ledger.String("origin", true, 255);
      std::string pem = ledger.String("public_key", true, 16 * 1024);
      if (errors.ok()) {
        if (!url.starts_with("https://") && !url.starts_with("http://")) {
          ledger.Error("url", "must be an http:// or https:// URL");
        } else if (url.ends_with("/")) {
          ledger.Error("url", "must not end with '/'");
        }
        if (origin.empty() || std::any_of(origin.begin(), origin.end(),
                        [](char c) { return c < 0x21 || c > 0x7E || c == '+'; })) {
          ledger.Error("origin", "must be 1 to 255 printable ASCII characters, no '+' or space");
        }
        auto key = crypto::PublicKey::FromPem(pem);
        if (!key) {
          ledger.Error("public_key", key.error().message());
        } else if (key->type() != crypto::KeyType::kEcP256 || !key->CheckStrength()) {
          ledger.Error("public_key", "must be an ECDSA P-256 public key (PEM)");
        } else {
          conf->ledger_ = LedgerInfo{std::move(url), std::move(origin), *key};
        }
      }
    }
  }

  for (JsonView& el : root.Array("revoked_certificates")) {
    std::string fp = el.AsString();
    if (fp.size() != 64 || fp.find_first_not_of("0123456789abcdef") != std::string::npos) {
      el.Error("must be a lower-case hex SHA-256 fingerprint");
    }
    conf->revoked_.push_back(fp);
  }
  std::sort(conf->revoked_.begin(), conf->revoked_.end());

  auto parse_client = [&](JsonView& where, const std::string& key,
                          bool subsystem) -> std::optional<ClientId> {
    std::string id_text = where.String(key);
    if (id_text.empty()) return std::nullopt;
    auto id = ClientId::Parse(id_text);
    if (!id) {
      where.Error(key, id.error().message());
      return std::nullopt;
    }
    if (subsystem != id->is_subsystem()) {
      where.Error(key, subsystem ? "must name a subsystem" : "must name a member");
      return std::nullopt;
    }
    if (id->instance != conf->instance_) {
      where.Error(key, fmt::format("belongs to instance \"{}\", not \"{}\"", id->instance,
                                   conf->instance_));
    }
    return *id;
  };

  for (JsonView& m : root.Array("members", true)) {
    Member member;
    auto id = parse_client(m, "id", false);
    member.name = m.String("name");
    member.name_en = m.String("name_en", false);
    for (JsonView& c : m.Array("signing_certificates")) {
      if (auto cert = parse_cert(c, "", c.AsString())) {
        member.signing_certificates.push_back(*cert);
      }
    }
    if (!id) continue;
    member.id = *id;
    if (!conf->member_index_.emplace(id->ToString(), conf->members_.size()).second) {
      m.Error("id", fmt::format("member {} is listed twice", id->ToString()));
    }
    for (const auto& cert : member.signing_certificates) {
      if (conf->cert_owners_.count(cert.Sha256Fingerprint())) {
        m.Error("signing_certificates",
                "certificate " + cert.Sha256Fingerprint() + " is listed more than once");
      }
      conf->cert_owners_.insert_or_assign(
          cert.Sha256Fingerprint(),
          CertificateOwner{CertificateOwner::Kind::kMemberSigning, id->ToString(), cert});
    }
    conf->members_.push_back(std::move(member));
  }

  for (JsonView& s : root.Array("subsystems")) {
    Subsystem sub;
    auto id = parse_client(s, "id", true);
    sub.name = s.String("name", false);
    if (!id) continue;
    sub.id = *id;
    if (!conf->member_index_.count(id->Member().ToString())) {
      s.Error("id", fmt::format("member {} is not listed", id->Member().ToString()));
    }
    if (!conf->subsystem_index_.emplace(id->ToString(), conf->subsystems_.size()).second) {
      s.Error("id", fmt::format("subsystem {} is listed twice", id->ToString()));
    }
    conf->subsystems_.push_back(std::move(sub));
  }

  for (JsonView& g : root.Array("global_groups")) {
    GlobalGroup group;
    group.code = g.String("code");
    if (!group.code.empty()) {
      if (auto st = ValidateIdPart(group.code, "group code"); !st) {
        g.Error("code", st.error().message());
      }
    }
    group.description = g.String("description", true, 1000);
    group.description_en = g.String("description_en", false, 1000);
    std::set<std::string> seen;
    for (JsonView& c : g.Array("members")) {
      std::string member = c.AsString();
      auto cid = ClientId::Parse(member);
      if (!cid) {
        c.Error(cid.error().message());
      } else if (!cid->is_subsystem()) {
        c.Error(fmt::format("{} is a member; a global group holds subsystems", member));
      } else if (!conf->subsystem_index_.count(member)) {
        c.Error(fmt::format("subsystem {} is not listed", member));
      } else if (!seen.insert(member).second) {
        c.Error(fmt::format("subsystem {} is listed twice in the group", member));
      } else {
        group.members.push_back(*cid);
      }
    }
    if (group.code.empty()) continue;
    if (!conf->group_index_.emplace(group.code, conf->global_groups_.size()).second) {
      g.Error("code", fmt::format("global group \"{}\" is listed twice", group.code));
      continue;
    }
    for (const ClientId& m : group.members) conf->groups_of_.emplace(m.ToString(), group.code);
    conf->global_groups_.push_back(std::move(group));
  }

  for (JsonView& g : root.Array("gateways")) {
    std::string id_text = g.String("id");
    auto id = GatewayId::Parse(id_text);
    if (!id_text.empty() && !id) g.Error("id", id.error().message());
    std::string address = g.String("address");
    std::string host;
    uint16_t port = 0;
    if (!address.empty()) {
      if (auto hp = SplitHostPort(address); hp && hp->second != 0) {
        std::tie(host, port) = *hp;
      } else if (hp) {
        g.Error("address", "port 0 is not an address peers can connect to");
      } else {
        g.Error("address", hp.error().message());
      }
    }
    auto cert = parse_cert(g, "auth_certificate", g.String("auth_certificate"));
    std::vector<crypto::Certificate> additional;
    {
      std::vector<JsonView> more = g.Array("additional_auth_certificates");
      if (more.size() > kMaxAdditionalAuthCertificates) {
        g.Error("additional_auth_certificates",
                fmt::format("more than {} certificates", kMaxAdditionalAuthCertificates));
      }
      for (JsonView& c : more) {
        if (auto parsed = parse_cert(c, "", c.AsString())) additional.push_back(*parsed);
      }
    }
    std::vector<ClientId> clients;
    for (JsonView& c : g.Array("clients")) {
      auto cid = ClientId::Parse(c.AsString());
      if (!cid) {
        c.Error(cid.error().message());
      } else if (!conf->subsystem_index_.count(cid->ToString())) {
        c.Error(fmt::format("subsystem {} is not listed", cid->ToString()));
      } else {
        clients.push_back(*cid);
      }
    }
    if (!id || !cert) continue;
    if (!conf->member_index_.count(id->owner.ToString())) {
      g.Error("id", fmt::format("owner {} is not a listed member", id->owner.ToString()));
    }
    if (!conf->gateway_index_.emplace(id->ToString(), conf->gateways_.size()).second) {
      g.Error("id", fmt::format("gateway {} is listed twice", id->ToString()));
    }
    std::vector<crypto::Certificate> all = {*cert};
    all.insert(all.end(), additional.begin(), additional.end());
    std::string pins;
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string fp = all[i].Sha256Fingerprint();
      pins += (i == 0 ? "" : ",") + fp;
      if (conf->cert_owners_.count(fp)) {
        g.Error(i == 0 ? std::string("auth_certificate")
                       : fmt::format("additional_auth_certificates[{}]", i - 1),
                "certificate " + fp + " is listed more than once");
      }
      conf->cert_owners_.insert_or_assign(
          fp,
          CertificateOwner{CertificateOwner::Kind::kGatewayAuthentication, id->ToString(), all[i]});
    }
    conf->gateways_.push_back(Gateway{*id, host, port, *cert, std::move(clients),
                                      std::move(additional), std::move(pins)});
  }

  for (JsonView& s : root.Array("services")) {
    Service service;
    std::string id_text = s.String("id");
    auto id = ServiceId::Parse(id_text);
    if (!id_text.empty() && !id) s.Error("id", id.error().message());
    service.type = s.String("type", false);
    if (service.type.empty()) service.type = "REST";
    if (service.type != "REST" && service.type != "OPENAPI") {
      s.Error("type", "must be \"REST\" or \"OPENAPI\"");
    }
    service.enabled = s.Bool("enabled", true);
    service.disabled_notice = s.String("disabled_notice", false, 1000);
    service.endpoints = ParseEndpoints(s, "endpoints");
    if (!id) continue;
    if (!conf->subsystem_index_.count(id->provider.ToString())) {
      s.Error("id", fmt::format("subsystem {} is not listed", id->provider.ToString()));
    }
    service.id = *id;
    if (!conf->service_index_.emplace(id->ToString(), conf->services_.size()).second) {
      s.Error("id", fmt::format("service {} is listed twice", id->ToString()));
    }
    conf->services_.push_back(std::move(service));
  }

  // JsonView reads a key or reports it missing; whether a grant has "group" at all is
  // asked of the raw element beside it.
  const nlohmann::json* raw_grants =
      doc.is_object() && doc.contains("grants") ? &doc["grants"] : nullptr;
  size_t grant_index = 0;
  for (JsonView& g : root.Array("grants")) {
    Grant grant;
    const nlohmann::json& raw = (*raw_grants)[grant_index++];
    // The grantee is a client ("client") or a global group ("group"), never both, so a
    // group reference cannot be mistaken for a client id, nor one silently ignored.
    const bool to_group = raw.is_object() && raw.contains("group");
    if (to_group && raw.contains("client")) {
      g.Error("has both \"client\" and \"group\"; a grant names one grantee");
      continue;
    }
    std::optional<ClientId> client;
    if (to_group) {
      grant.group = g.String("group");
      if (!grant.group.empty() && !conf->group_index_.count(grant.group)) {
        g.Error("group", fmt::format("global group \"{}\" is not listed", grant.group));
      }
    } else {
      std::string client_text = g.String("client");
      if (auto parsed = ClientId::Parse(client_text); parsed) {
        client = *parsed;
      } else if (!client_text.empty()) {
        g.Error("client", parsed.error().message());
      }
    }
    std::string service_text = g.String("service");
    auto service = ServiceId::Parse(service_text);
    if (!service_text.empty() && !service) g.Error("service", service.error().message());
    grant.rules = ParseEndpoints(g, "rules");
    if ((!client && grant.group.empty()) || !service) continue;
    if (!conf->service_index_.count(service->ToString())) {
      g.Error("service", fmt::format("service {} is not listed", service->ToString()));
    }
    if (client && !conf->IsKnownClient(*client)) {
      g.Error("client", fmt::format("client {} is not listed", client->ToString()));
    }
    grant.service = *service;
    if (client) {
      grant.client = *client;
      conf->grant_index_.emplace(std::make_pair(client->ToString(), service->ToString()),
                                 conf->grants_.size());
    } else {
      conf->group_grant_index_.emplace(std::make_pair(grant.group, service->ToString()),
                                       conf->grants_.size());
    }
    conf->grants_.push_back(std::move(grant));
  }

  TROAD_RETURN_IF_ERROR(errors.ToStatus("global configuration"));
  auto trust = crypto::TrustStore::Create(conf->trusted_cas_);
  if (!trust) return Fail(std::move(trust).error().Context("global configuration: trusted_cas"));
  conf->trust_ = std::move(*trust);
  return std::shared_ptr<const GlobalConf>(std::move(conf));
}

const Member* GlobalConf::FindMember(const ClientId& member) const {
  auto it = member_index_.find(member.ToString());
  return it == member_index_.end() ? nullptr : &members_[it->second];
}

const Subsystem* GlobalConf::FindSubsystem(const ClientId& subsystem) const {
  auto it = subsystem_index_.find(subsystem.ToString());
  return it == subsystem_index_.end() ? nullptr : &subsystems_[it->second];
}

const Gateway* GlobalConf::FindGateway(const GatewayId& id) const {
  auto it = gateway_index_.find(id.ToString());
  return it == gateway_index_.end() ? nullptr : &gateways_[it->second];
}

const Service* GlobalConf::FindService(const ServiceId& id) const {
  auto it = service_index_.find(id.ToString());
  return it == service_index_.end() ? nullptr : &services_[it->second];
}

const GlobalGroup* GlobalConf::FindGlobalGroup(std::string_view code) const {
  auto it = group_index_.find(code);
  return it == group_index_.end() ? nullptr : &global_groups_[it->second];
}

std::vector<std::string> GlobalConf::GroupsOf(const ClientId& client) const {
  std::vector<std::string> out;
  auto [begin, end] = groups_of_.equal_range(client.ToString());
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<const Gateway*> GlobalConf::GatewaysServing(const ClientId& client) const {
  std::vector<const Gateway*> out;
  for (const Gateway& g : gateways_) {
    if (std::find(g.clients.begin(), g.clients.end(), client) != g.clients.end()) {
      out.push_back(&g);
    }
  }
  return out;
}

std::vector<const Grant*> GlobalConf::GrantsFor(const ClientId& client,
                                                const ServiceId& service) const {
  std::vector<const Grant*> out;
  const std::string service_text = service.ToString();
  auto [begin, end] = grant_index_.equal_range({client.ToString(), service_text});
  for (auto it = begin; it != end; ++it) out.push_back(&grants_[it->second]);
  size_t direct = out.size();
  for (const std::string& group : GroupsOf(client)) {
    auto [gbegin, gend] = group_grant_index_.equal_range({group, service_text});
    for (auto it = gbegin; it != gend; ++it) out.push_back(&grants_[it->second]);
  }
  // Group grants in document order, after the client's own.
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(direct), out.end());
  return out;
}

bool GlobalConf::IsRevoked(const std::string& fingerprint) const {
  return std::binary_search(revoked_.begin(), revoked_.end(), fingerprint);
}

const CertificateOwner* GlobalConf::OwnerOf(const std::string& fingerprint) const {
  auto it = cert_owners_.find(fingerprint);
  return it == cert_owners_.end() ? nullptr : &it->second;
}

bool GlobalConf::IsKnownClient(const ClientId& client) const {
  if (client.is_subsystem()) return FindSubsystem(client) != nullptr;
  return FindMember(client) != nullptr;
}

}  // namespace troad::globalconf
