#include "cli/init.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/config.h"
#include "core/file.h"
#include "core/ids.h"
#include "core/net.h"
#include "crypto/ca.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "globalconf/document.h"
#include "globalconf/model.h"

namespace troad::cli {
namespace fs = std::filesystem;

namespace {

std::vector<NetEndpoint> ReadEndpoints(ConfigSection& s, const std::string& key) {
  std::vector<NetEndpoint> out;
  for (ConfigSection& e : s.SectionList(key)) {
    out.push_back({e.String("method", "*"), e.String("path", "*")});
  }
  return out;
}

Status WriteFile(const fs::path& path, std::string_view content, bool secret = false) {
  return WriteFileAtomically(path.string(), content, secret ? 0600 : 0644);
}

std::string SafeFileName(const ClientId& member) {
  std::string s = member.member_class + "-" + member.member_code;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return s;
}

}  // namespace

Result<Network> ReadNetwork(const std::string& file) {
  TROAD_ASSIGN_OR_RETURN(auto doc, TomlDocument::Load(file));
  fs::path base = fs::absolute(file).parent_path();
  Network net;
  ConfigSection root = doc->Root();
  net.instance = root.RequiredString("instance");
  net.validity_days = root.Int("globalconf_validity_days", 30, 1, 3650);
  net.max_clock_skew_ms = root.Int("max_clock_skew_ms", 60'000, 1'000, 3'600'000);
  auto client = [&](ConfigSection& s, const std::string& key, bool subsystem) -> ClientId {
    std::string text = s.RequiredString(key);
    auto id = ClientId::Parse(text);
    if (!text.empty() && !id) {
      s.Error(key, id.error().message());
    } else if (id && id->is_subsystem() != subsystem) {
      s.Error(key, subsystem ? "must name a subsystem" : "must name a member");
    } else if (id) {
      return *id;
    }
    return {};
  };
  for (ConfigSection& m : root.SectionList("members")) {
    NetMember member;
    member.id = client(m, "id", false);
    member.name = m.RequiredString("name");
    member.name_en = m.String("name_en", "");
    for (const std::string& code : m.StringList("subsystems")) {
      if (auto st = ValidateIdPart(code, "subsystem code"); !st)
        m.Error("subsystems", st.error().message());
      member.subsystems.emplace_back(code, "");
    }
    net.members.push_back(std::move(member));
  }
  for (ConfigSection& g : root.SectionList("gateways")) {
    NetGateway gw;
    gw.name = g.RequiredString("name");
    if (auto st = ValidateIdPart(gw.name, "gateway name"); !gw.name.empty() && !st) {
      g.Error("name", st.error().message());
    }
    gw.owner = client(g, "owner", false);
    gw.local_listen = g.String("local_listen", "127.0.0.1:8080");
    gw.local_tls_listen = g.String("local_tls_listen", "");
    gw.peer_listen = g.String("peer_listen", "127.0.0.1:8443");
    gw.admin_listen = g.String("admin_listen", "127.0.0.1:4000");
    gw.advertise = g.String("address", gw.peer_listen);
    for (const std::string& c : g.StringList("clients")) {
      auto id = ClientId::Parse(c);
      if (!id || !id->is_subsystem()) {
        g.Error("clients", fmt::format("\"{}\" is not a subsystem identifier", c));
      } else {
        gw.clients.push_back(*id);
      }
    }
    net.gateways.push_back(std::move(gw));
  }
  for (ConfigSection& s : root.SectionList("services")) {
    NetService svc;
    std::string text = s.RequiredString("id");
    auto id = ServiceId::Parse(text);
    if (!text.empty() && !id) s.Error("id", id.error().message());
    if (id) svc.id = *id;
    svc.backend = s.RequiredString("backend");
    std::string openapi = s.String("openapi", "");
    if (!openapi.empty()) {
      fs::path p(openapi);
      svc.openapi = (p.is_absolute() ? p : base / p).lexically_normal().string();
      if (!fs::exists(svc.openapi)) s.Error("openapi", "file " + svc.openapi + " does not exist");
    }
    svc.type = s.String("type", svc.openapi.empty() ? "REST" : "OPENAPI");
    svc.enabled = s.Bool("enabled", true);
    svc.disabled_notice = s.String("disabled_notice", "");
    svc.timeout_ms = s.Int("timeout_ms", 30'000, 100, 3'600'000);
    svc.endpoints = ReadEndpoints(s, "endpoints");
    net.services.push_back(std::move(svc));
  }
  ConfigSection tsa = root.Section("tsa");
  net.tsa_listen = tsa.String("listen", "");
  if (!net.tsa_listen.empty()) {
    if (auto hp = SplitHostPort(net.tsa_listen); !hp) tsa.Error("listen", hp.error().message());
  }
  ConfigSection ledger_section = root.Section("ledger");
  net.ledger_listen = ledger_section.String("listen", "");
  if (!net.ledger_listen.empty()) {
    if (auto hp = SplitHostPort(net.ledger_listen); !hp) {
      ledger_section.Error("listen", hp.error().message());
    }
  }
  for (ConfigSection& g : root.SectionList("grants")) {
    NetGrant grant;
    grant.client = client(g, "client", true);
    std::string text = g.RequiredString("service");
    auto id = ServiceId::Parse(text);
    if (!text.empty() && !id) g.Error("service", id.error().message());
    if (id) grant.service = *id;
    grant.rules = ReadEndpoints(g, "rules");
    net.grants.push_back(std::move(grant));
  }
  TROAD_RETURN_IF_ERROR(doc->Finish());
  // A gateway with no explicit clients serves its owner's subsystems.
  for (NetGateway& gw : net.gateways) {
    if (!gw.clients.empty()) continue;
    for (const NetMember& m : net.members) {
      if (m.id != gw.owner) continue;
      for (const auto& [code, name] : m.subsystems) {
        gw.clients.push_back({m.id.instance, m.id.member_class, m.id.member_code, code});
      }
    }
  }
  return net;
}

std::string ServiceEntries(const Network& net, const NetGateway& gw) {
  std::string toml;
  for (const NetService& s : net.services) {
    if (std::find(gw.clients.begin(), gw.clients.end(), s.id.provider) == gw.clients.end()) {
      continue;
    }
    toml += fmt::format("\n[[service]]\nid = {}\nbackend = {}\ntimeout_ms = {}\n",
                        TomlQuote(s.id.ToString()), TomlQuote(s.backend), s.timeout_ms);
    if (!s.openapi.empty()) toml += "openapi = " + TomlQuote(s.openapi) + "\n";
  }
  return toml;
}

Result<InitResult> InitNetwork(const std::string& network_file, const std::string& out_dir,
                               const Clock& clock) {
  TROAD_ASSIGN_OR_RETURN(Network net, ReadNetwork(network_file));
  fs::path out = fs::absolute(out_dir);
  if (fs::exists(out / "globalconf.json")) {
    return Fail(ErrorCode::kAlreadyExists,
                "{} already holds a network (globalconf.json); remove it or choose another "
                "--out",
                out.string());
  }
  std::error_code ec;
  fs::create_directories(out / "ca", ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create {}: {}", out.string(), ec.message());

  // The throwaway CA.
  TROAD_ASSIGN_OR_RETURN(auto ca_key, crypto::PrivateKey::GenerateEcP256());
  crypto::CertificateRequest ca_req;
  ca_req.common_name = net.instance + " troad local CA";
  ca_req.organization = "troad init";
  ca_req.usage = crypto::CertUsage::kCa;
  ca_req.validity = std::chrono::hours(24 * 365 * 5);
  TROAD_ASSIGN_OR_RETURN(auto ca_cert, crypto::CreateSelfSignedCa(ca_key, ca_req, clock));
  TROAD_RETURN_IF_ERROR(ca_key.SavePemFile((out / "ca" / "ca.key").string()));
  TROAD_RETURN_IF_ERROR(WriteFile(out / "ca" / "ca.crt", ca_cert.ToPem()));

  std::map<std::string, const NetMember*> members;
  for (const NetMember& m : net.members) members[m.id.ToString()] = &m;
  std::map<std::string, std::vector<crypto::Certificate>> signing_certs;  // member → certs
  globalconf::Document doc;
  InitResult result;
  result.globalconf_file = (out / "globalconf.json").string();

  for (const NetGateway& gw : net.gateways) {
    if (!members.count(gw.owner.ToString())) {
      return Fail(ErrorCode::kInvalidArgument, "{}: gateway {}: owner {} is not a member",
                  network_file, gw.name, gw.owner.ToString());
    }
    fs::path dir = out / gw.name;
    fs::create_directories(dir / "data", ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot create {}: {}", dir.string(), ec.message());
    GatewayId gw_id{gw.owner, gw.name};

    // Authentication key and certificate.
    TROAD_ASSIGN_OR_RETURN(auto auth_key, crypto::PrivateKey::GenerateEcP256());
    crypto::CertificateRequest auth_req;
    auth_req.common_name = gw_id.ToString();
    auth_req.organization = members[gw.owner.ToString()]->name_en.empty()
                                ? gw.owner.member_code
                                : members[gw.owner.ToString()]->name_en;
    auth_req.serial_number_attr = gw.owner.ToString();
    auth_req.usage = crypto::CertUsage::kAuthentication;
    auth_req.ip_addresses = {"127.0.0.1", "::1"};
    auth_req.dns_names = {"localhost"};
    TROAD_ASSIGN_OR_RETURN(
        auto auth_cert,
        crypto::IssueCertificate(ca_cert, ca_key, auth_key.Public(), auth_req, clock));
    TROAD_RETURN_IF_ERROR(auth_key.SavePemFile((dir / "auth.key").string()));
    TROAD_RETURN_IF_ERROR(WriteFile(dir / "auth.crt", auth_cert.ToPem()));

    // Signing keys for every member whose subsystems this gateway serves (and its owner).
    std::set<std::string> signing_members = {gw.owner.ToString()};
    for (const ClientId& c : gw.clients) signing_members.insert(c.Member().ToString());
    std::string signing_toml;
    for (const std::string& member_id : signing_members) {
      auto it = members.find(member_id);
      if (it == members.end()) {
        return Fail(ErrorCode::kInvalidArgument, "{}: gateway {}: member {} is not listed",
                    network_file, gw.name, member_id);
      }
      TROAD_ASSIGN_OR_RETURN(auto sign_key, crypto::PrivateKey::GenerateEcP256());
      crypto::CertificateRequest sign_req;
      sign_req.common_name = member_id;
      sign_req.organization =
          it->second->name_en.empty() ? it->second->id.member_code : it->second->name_en;
      sign_req.serial_number_attr = member_id;
      sign_req.usage = crypto::CertUsage::kSigning;
      TROAD_ASSIGN_OR_RETURN(
          auto sign_cert,
          crypto::IssueCertificate(ca_cert, ca_key, sign_key.Public(), sign_req, clock));
      std::string stem = "sign-" + SafeFileName(it->second->id);
      TROAD_RETURN_IF_ERROR(sign_key.SavePemFile((dir / (stem + ".key")).string()));
      TROAD_RETURN_IF_ERROR(WriteFile(dir / (stem + ".crt"), sign_cert.ToPem()));
      signing_certs[member_id].push_back(sign_cert);
      signing_toml +=
          fmt::format("\n[[signing]]\nmember = {}\ncertificate = {}\nkey = {}\n",
                      TomlQuote(member_id), TomlQuote(stem + ".crt"), TomlQuote(stem + ".key"));
    }

    // gateway.toml
    std::string toml = fmt::format(
        "# Gateway {} — written by `troad init` from {}.\n"
        "# Every key is described in docs/configuration.md.\n\n"
        "[gateway]\nid = {}\nglobalconf = \"../globalconf.json\"\ndata_dir = \"data\"\n\n"
        "[listen]\nconsumer = {}\n{}provider = {}\nadmin = {}\n\n"
        "[tls]\ncertificate = \"auth.crt\"\nkey = \"auth.key\"\n",
        gw_id.ToString(), fs::absolute(network_file).string(), TomlQuote(gw_id.ToString()),
        TomlQuote(gw.local_listen),
        gw.local_tls_listen.empty() ? ""
                                    : "consumer_tls = " + TomlQuote(gw.local_tls_listen) + "\n",
        TomlQuote(gw.peer_listen), TomlQuote(gw.admin_listen));
    toml += signing_toml;
    for (const ClientId& c : gw.clients) {
      toml +=
          fmt::format("\n[[client]]\nid = {}\nconnection = \"http\"\n", TomlQuote(c.ToString()));
    }
    if (!net.tsa_listen.empty()) {
      toml += fmt::format(
          "\n# The network's timestamping authority (`troad tsa`, see {}/tsa/README).\n"
          "[timestamping]\nauthorities = [{}]\n",
          "..", TomlQuote("http://" + net.tsa_listen + "/tsa"));
    }
    toml += ServiceEntries(net, gw);
    fs::path config_file = dir / "gateway.toml";
    TROAD_RETURN_IF_ERROR(WriteFile(config_file, toml));
    result.gateway_configs.push_back(config_file.string());

    TROAD_ASSIGN_OR_RETURN(auto address, SplitHostPort(gw.advertise));
    doc.gateways.push_back(
        globalconf::Gateway{gw_id, address.first, address.second, auth_cert, gw.clients});
  }

  for (const NetMember& m : net.members) {
    doc.members.push_back(
        globalconf::Member{m.id, m.name, m.name_en, signing_certs[m.id.ToString()]});
    for (const auto& [code, name] : m.subsystems) {
      ClientId sub = m.id;
      sub.subsystem = code;
      doc.subsystems.push_back(globalconf::Subsystem{sub, name.empty() ? m.name : name});
    }
  }
  for (const NetService& s : net.services) {
    std::vector<globalconf::Endpoint> endpoints;
    for (const auto& e : s.endpoints) endpoints.push_back({e.method, e.path});
    doc.services.push_back(
        globalconf::Service{s.id, s.type, s.enabled, s.disabled_notice, std::move(endpoints)});
  }
  for (const NetGrant& g : net.grants) {
    std::vector<globalconf::Endpoint> rules;
    for (const auto& r : g.rules) rules.push_back({r.method, r.path});
    doc.grants.push_back(globalconf::Grant{g.client, g.service, std::move(rules)});
  }
  if (!net.tsa_listen.empty()) {
    // The timestamping authority's pair, issued by the network CA with the critical
    // timeStamping EKU, and listed as trusted in the global configuration.
    fs::path tsa_dir = out / "tsa";
    fs::create_directories(tsa_dir, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot create {}: {}", tsa_dir.string(), ec.message());
    TROAD_ASSIGN_OR_RETURN(auto tsa_key, crypto::PrivateKey::GenerateEcP256());
    crypto::CertificateRequest tsa_req;
    tsa_req.common_name = net.instance + " troad TSA";
    tsa_req.usage = crypto::CertUsage::kTimestamping;
    TROAD_ASSIGN_OR_RETURN(
        auto tsa_cert, crypto::IssueCertificate(ca_cert, ca_key, tsa_key.Public(), tsa_req, clock));
    TROAD_RETURN_IF_ERROR(tsa_key.SavePemFile((tsa_dir / "tsa.key").string()));
    TROAD_RETURN_IF_ERROR(WriteFile(tsa_dir / "tsa.crt", tsa_cert.ToPem()));
    TROAD_RETURN_IF_ERROR(WriteFile(
        tsa_dir / "README",
        fmt::format("The network's RFC 3161 timestamping authority. Start it with\n\n"
                    "  troad tsa --certificate tsa.crt --key tsa.key --listen {} --data-dir "
                    "data\n\n(from this directory). The gateways send their batches to "
                    "http://{}/tsa.\n",
                    net.tsa_listen, net.tsa_listen)));
    doc.timestamping_certificates = {tsa_cert};
    result.tsa_dir = tsa_dir.string();
  }
  if (!net.ledger_listen.empty()) {
    // The ledger's checkpoint key; its public half is published with the ledger's URL.
    fs::path ledger_dir = out / "ledger";
    fs::create_directories(ledger_dir, ec);
    if (ec) {
      return Fail(ErrorCode::kIo, "cannot create {}: {}", ledger_dir.string(), ec.message());
    }
    TROAD_ASSIGN_OR_RETURN(auto ledger_key, crypto::PrivateKey::GenerateEcP256());
    TROAD_RETURN_IF_ERROR(ledger_key.SavePemFile((ledger_dir / "ledger.key").string()));
    const std::string origin = "troad-ledger/" + net.instance;
    TROAD_RETURN_IF_ERROR(WriteFile(
        ledger_dir / "README",
        fmt::format("The network's transparency ledger. Start it with\n\n"
                    "  troad ledger --key ledger.key --globalconf ../globalconf.json --listen {} "
                    "--origin {} --data-dir data\n\n(from this directory). The gateways ship "
                    "their record digests to http://{}/ledger/v1.\n",
                    net.ledger_listen, origin, net.ledger_listen)));
    doc.ledger = globalconf::LedgerInfo{"http://" + net.ledger_listen + "/ledger/v1", origin,
                                        ledger_key.Public()};
    result.ledger_dir = ledger_dir.string();
  }
  SystemTime now = clock.Now();
  doc.instance = net.instance;
  doc.version = 1;
  doc.issued_at = now;
  doc.expires_at = now + std::chrono::hours(24 * net.validity_days);
  doc.settings = globalconf::Settings{net.max_clock_skew_ms, 60};
  doc.trusted_cas = {ca_cert};
  // WriteDocument validates the text exactly as a gateway will read it.
  auto text = globalconf::WriteDocument(doc);
  if (!text) return Fail(std::move(text).error().Context(network_file));
  TROAD_RETURN_IF_ERROR(WriteFile(out / "globalconf.json", *text));
  return result;
}

}  // namespace troad::cli
