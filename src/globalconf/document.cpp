#include "globalconf/document.h"

#include <nlohmann/json.hpp>

#include "core/net.h"

namespace troad::globalconf {
namespace {

using nlohmann::ordered_json;

ordered_json Endpoints(const std::vector<Endpoint>& endpoints) {
  ordered_json out = ordered_json::array();
  for (const Endpoint& e : endpoints) out.push_back({{"method", e.method}, {"path", e.path}});
  return out;
}

}  // namespace

Result<std::string> WriteDocument(const Document& doc) {
  ordered_json cas = ordered_json::array();
  for (const crypto::Certificate& c : doc.trusted_cas) cas.push_back(c.ToPem());
  ordered_json members = ordered_json::array();
  for (const Member& m : doc.members) {
    ordered_json certs = ordered_json::array();
    for (const crypto::Certificate& c : m.signing_certificates) certs.push_back(c.ToPem());
    members.push_back({{"id", m.id.ToString()},
                       {"name", m.name},
                       {"name_en", m.name_en},
                       {"signing_certificates", std::move(certs)}});
  }
  ordered_json subsystems = ordered_json::array();
  for (const Subsystem& s : doc.subsystems) {
    subsystems.push_back({{"id", s.id.ToString()}, {"name", s.name}});
  }
  ordered_json groups = ordered_json::array();
  for (const GlobalGroup& g : doc.global_groups) {
    ordered_json group_members = ordered_json::array();
    for (const ClientId& c : g.members) group_members.push_back(c.ToString());
    groups.push_back({{"code", g.code},
                      {"description", g.description},
                      {"description_en", g.description_en},
                      {"members", std::move(group_members)}});
  }
  ordered_json gateways = ordered_json::array();
  for (const Gateway& g : doc.gateways) {
    ordered_json clients = ordered_json::array();
    for (const ClientId& c : g.clients) clients.push_back(c.ToString());
    ordered_json gateway = {{"id", g.id.ToString()},
                            {"address", JoinHostPort(g.host, g.port)},
                            {"auth_certificate", g.auth_certificate.ToPem()}};
    // Written only when there are some: documents without a renewal in progress read
    // the same as before the field existed.
    if (!g.additional_auth_certificates.empty()) {
      ordered_json more = ordered_json::array();
      for (const auto& c : g.additional_auth_certificates) more.push_back(c.ToPem());
      gateway["additional_auth_certificates"] = std::move(more);
    }
    gateway["clients"] = std::move(clients);
    gateways.push_back(std::move(gateway));
  }
  ordered_json services = ordered_json::array();
  for (const Service& s : doc.services) {
    services.push_back({{"id", s.id.ToString()},
                        {"type", s.type},
                        {"enabled", s.enabled},
                        {"disabled_notice", s.disabled_notice},
                        {"endpoints", Endpoints(s.endpoints)}});
  }
  ordered_json grants = ordered_json::array();
  for (const Grant& g : doc.grants) {
    // A grant names its grantee with exactly one of "client" and "group" (§8).
    ordered_json grant = ordered_json::object();
    if (g.is_group_grant()) {
      grant["group"] = g.group;
    } else {
      grant["client"] = g.client.ToString();
    }
    grant["service"] = g.service.ToString();
    grant["rules"] = Endpoints(g.rules);
    grants.push_back(std::move(grant));
  }
  ordered_json conf = {
      {"format", kFormat},
      {"instance", doc.instance},
      {"version", doc.version},
      {"issued_at", FormatRfc3339(doc.issued_at)},
      {"expires_at", FormatRfc3339(doc.expires_at)},
      {"settings",
       {{"max_clock_skew_ms", doc.settings.max_clock_skew_ms},
        {"refresh_interval_s", doc.settings.refresh_interval_s}}},
      {"trusted_cas", std::move(cas)},
      {"trusted_timestamping_certificates", ordered_json::array()},
      {"revoked_certificates", doc.revoked_certificates},
      {"members", std::move(members)},
      {"subsystems", std::move(subsystems)},
      {"global_groups", std::move(groups)},
      {"gateways", std::move(gateways)},
      {"services", std::move(services)},
      {"grants", std::move(grants)},
  };
  // Written after trusted_cas only when there are some: documents without any read the
  // same as before the field existed.
  if (doc.timestamping_certificates.empty()) {
    conf.erase("trusted_timestamping_certificates");
  } else {
    for (const auto& c : doc.timestamping_certificates) {
      conf["trusted_timestamping_certificates"].push_back(c.ToPem());
    }
  }
  if (doc.ledger) {
    // After trusted_timestamping_certificates (or trusted_cas): insert before
    // revoked_certificates to keep §8's order.
    ordered_json out = ordered_json::object();
    for (auto& [key, value] : conf.items()) {
      if (key == "revoked_certificates") {
        out["ledger"] = {{"url", doc.ledger->url},
                         {"origin", doc.ledger->origin},
                         {"public_key", doc.ledger->public_key.ToPem()}};
      }
      out[key] = std::move(value);
    }
    conf = std::move(out);
  }
  // Invalid UTF-8 in a name becomes U+FFFD rather than an exception.
  std::string text = conf.dump(2, ' ', false, ordered_json::error_handler_t::replace);
  TROAD_RETURN_IF_ERROR(GlobalConf::Parse(text));
  return text;
}

}  // namespace troad::globalconf
