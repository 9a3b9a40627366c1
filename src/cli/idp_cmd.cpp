#include "cli/idp_cmd.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "cli/serve.h"
#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "identity/idp.h"

namespace troad::cli {

struct IdpCommands {
  CLI::App* idp = nullptr;
  CLI::App* init = nullptr;
  CLI::App* client = nullptr;
  CLI::App* client_add = nullptr;
  CLI::App* client_list = nullptr;
  CLI::App* client_show = nullptr;
  CLI::App* client_disable = nullptr;
  CLI::App* client_enable = nullptr;
  CLI::App* client_secret = nullptr;
  CLI::App* person_add = nullptr;
  CLI::App* rotate_key = nullptr;

  std::string config_file;
  identity::InitIdpOptions init_options;
  // client add
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;
  std::string auth_method = "client_secret_basic";
  std::string jwks_file;
  bool public_subject = false;
  bool national_id = false;
  // person add
  std::string national_id_value;
  std::string mobile;
};

namespace {

int Fail(std::string_view command, const std::string& message, int status) {
  std::fprintf(stderr, "troad idp %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               message.c_str());
  return status;
}

// The database of the idp a configuration describes, for an operator command.
struct OpenedIdp {
  identity::IdpConfig config;
  std::unique_ptr<store::Database> db;
};

Result<OpenedIdp> Open(const std::string& config_file) {
  if (config_file.empty()) {
    return troad::Fail(ErrorCode::kInvalidArgument, "--config idp.toml is required");
  }
  TROAD_ASSIGN_OR_RETURN(auto config, identity::IdpConfig::Load(config_file));
  TROAD_ASSIGN_OR_RETURN(auto db, identity::OpenIdpDatabase(config, SystemClock::Get()));
  return OpenedIdp{std::move(config), std::move(db)};
}

void PrintClient(const identity::Client& c) {
  std::printf("%s\n", identity::ClientToJson(c).dump(2).c_str());
}

int RunClient(const IdpCommands& o) {
  auto opened = Open(o.config_file);
  if (!opened) return Fail("client", opened.error().message(), 2);
  identity::ClientRegistry clients(*opened->db, SystemClock::Get());
  if (*o.client_add) {
    identity::NewClient nc;
    nc.id = o.id;
    nc.name = o.name;
    nc.redirect_uris = o.redirect_uris;
    nc.pairwise = !o.public_subject;
    nc.national_id_allowed = o.national_id;
    if (o.auth_method == "private_key_jwt") {
      nc.auth_method = identity::ClientAuthMethod::kPrivateKeyJwt;
      if (o.jwks_file.empty()) return Fail("client add", "private_key_jwt needs --jwks FILE", 2);
      auto text = ReadFile(o.jwks_file);
      if (!text) return Fail("client add", text.error().message(), 2);
      auto jwks = ParseJson(*text, o.jwks_file);
      if (!jwks) return Fail("client add", jwks.error().message(), 2);
      nc.jwks = std::move(*jwks);
    } else if (o.auth_method != "client_secret_basic") {
      return Fail("client add", "--auth must be client_secret_basic or private_key_jwt", 2);
    }
    auto secret = clients.Add(nc);
    if (!secret) {
      return Fail("client add", secret.error().message(),
                  secret.error().code() == ErrorCode::kInvalidArgument ? 2 : 1);
    }
    std::printf("client_id:     %s\n", nc.id.c_str());
    if (!secret->empty()) {
      std::printf("client_secret: %s\n(shown once; only its SHA-256 is kept)\n", secret->c_str());
    }
    return 0;
  }
  if (*o.client_list) {
    auto list = clients.List();
    if (!list) return Fail("client list", list.error().message(), 1);
    for (const auto& c : *list) {
      std::printf("%-24s %-8s %-20s %s\n", c.id.c_str(), c.enabled ? "enabled" : "disabled",
                  std::string(identity::ClientAuthMethodName(c.auth_method)).c_str(),
                  c.name.c_str());
    }
    return 0;
  }
  if (*o.client_show) {
    auto c = clients.Get(o.id);
    if (!c) return Fail("client show", c.error().message(), 1);
    PrintClient(*c);
    return 0;
  }
  if (*o.client_disable || *o.client_enable) {
    bool enable = o.client_enable->parsed();
    if (auto st = clients.SetEnabled(o.id, enable); !st) {
      return Fail(enable ? "client enable" : "client disable", st.error().message(), 1);
    }
    std::printf("client %s %s\n", o.id.c_str(), enable ? "enabled" : "disabled");
    return 0;
  }
  if (*o.client_secret) {
    auto secret = clients.RotateSecret(o.id);
    if (!secret) return Fail("client secret", secret.error().message(), 1);
    std::printf("client_secret: %s\n(shown once; the old secret no longer works)\n",
                secret->c_str());
    return 0;
  }
  return Fail("client", "choose add, list, show, disable, enable or secret", 2);
}

}  // namespace

std::shared_ptr<IdpCommands> AddIdpCommands(CLI::App& app) {
  auto o = std::make_shared<IdpCommands>();
  o->idp = app.add_subcommand(
      "idp",
      "Run the identity verification centre, an OpenID Connect provider (--config idp.toml); "
      "init, register relying parties and people, rotate the signing key");
  o->idp->add_option("-c,--config", o->config_file, "idp.toml");
  o->idp->require_subcommand(0, 1);

  o->init = o->idp->add_subcommand("init", "Make a new idp: idp.toml, secrets, database, key");
  o->init->add_option("--dir", o->init_options.dir, "directory to create")->required();
  o->init->add_option("--issuer", o->init_options.issuer,
                      "the issuer URL people and relying parties use "
                      "(default http://localhost:4600)");
  o->init->add_option("--listen", o->init_options.listen, "address:port (default 127.0.0.1:4600)");

  o->client = o->idp->add_subcommand("client", "Relying parties (OpenID Connect clients)");
  o->client->require_subcommand(1);
  auto config_opt = [&](CLI::App* sub) {
    sub->add_option("-c,--config", o->config_file, "idp.toml")->required();
  };
  o->client_add = o->client->add_subcommand("add", "Register a relying party");
  config_opt(o->client_add);
  o->client_add->add_option("--id", o->id, "client id (letters, digits, - _ .)")->required();
  o->client_add->add_option("--name", o->name, "name shown to people signing in")->required();
  o->client_add
      ->add_option("--redirect-uri", o->redirect_uris, "an exact redirect URI (repeatable)")
      ->required();
  o->client_add->add_option("--auth", o->auth_method,
                            "client_secret_basic (default) or private_key_jwt");
  o->client_add->add_option("--jwks", o->jwks_file, "the client's public keys (JWKS JSON file)");
  o->client_add->add_flag("--public-subject", o->public_subject,
                          "one subject for a person across clients (default: pairwise)");
  o->client_add->add_flag("--national-id", o->national_id,
                          "may receive the national id (scope national_id)");
  o->client_list = o->client->add_subcommand("list", "List relying parties");
  config_opt(o->client_list);
  for (auto** sub : {&o->client_show, &o->client_disable, &o->client_enable, &o->client_secret}) {
    const char* name = sub == &o->client_show      ? "show"
                       : sub == &o->client_disable ? "disable"
                       : sub == &o->client_enable  ? "enable"
                                                   : "secret";
    const char* help = sub == &o->client_show      ? "Show a relying party's registration"
                       : sub == &o->client_disable ? "Stop a relying party signing people in"
                       : sub == &o->client_enable  ? "Let a disabled relying party back in"
                                                   : "Give a relying party a new secret";
    *sub = o->client->add_subcommand(name, help);
    config_opt(*sub);
    (*sub)->add_option("--id", o->id, "client id")->required();
  }

  auto* person = o->idp->add_subcommand("person", "People known to the idp");
  person->require_subcommand(1);
  o->person_add = person->add_subcommand("add", "Register a person");
  config_opt(o->person_add);
  o->person_add->add_option("--national-id", o->national_id_value, "national id (A123456789)")
      ->required();
  o->person_add->add_option("--name", o->name, "name")->required();
  o->person_add->add_option("--mobile", o->mobile, "mobile number for SMS codes (09xxxxxxxx)");

  o->rotate_key = o->idp->add_subcommand(
      "rotate-key", "Sign ID tokens with a new key now (the old one stays published a while)");
  config_opt(o->rotate_key);
  return o;
}

std::optional<int> RunIdpCommand(const IdpCommands& o) {
  if (!*o.idp) return std::nullopt;
  if (*o.init) {
    auto result = identity::InitIdp(o.init_options, SystemClock::Get());
    if (!result) {
      return Fail("init", result.error().message(),
                  result.error().code() == ErrorCode::kInvalidArgument ? 2 : 1);
    }
    std::printf("idp configuration: %s\n", result->config_file.c_str());
    std::printf("management token:  %s\n(shown once; only its SHA-256 is kept in idp.toml)\n",
                result->management_token.c_str());
    std::printf("start it:          troad idp --config %s\n", result->config_file.c_str());
    return 0;
  }
  if (*o.client) return RunClient(o);
  if (*o.person_add) {
    auto opened = Open(o.config_file);
    if (!opened) return Fail("person add", opened.error().message(), 2);
    identity::Accounts accounts(*opened->db, SystemClock::Get());
    auto p = accounts.AddPerson(o.national_id_value, o.name, o.mobile);
    if (!p) {
      return Fail("person add", p.error().message(),
                  p.error().code() == ErrorCode::kInvalidArgument ? 2 : 1);
    }
    std::printf("person %s registered\n", p->id.c_str());
    return 0;
  }
  if (*o.rotate_key) {
    auto opened = Open(o.config_file);
    if (!opened) return Fail("rotate-key", opened.error().message(), 2);
    store::SigningKeys keys(*opened->db, SystemClock::Get(), opened->config.provider.keys);
    auto kid = keys.Rotate();
    if (!kid) return Fail("rotate-key", kid.error().message(), 1);
    std::printf("new signing key: %s\n", kid->c_str());
    return 0;
  }
  if (o.config_file.empty()) {
    return Fail("", "--config idp.toml is required (or `troad idp init`)", 2);
  }
  return RunService<identity::Idp, identity::IdpConfig>("idp", o.config_file);
}

}  // namespace troad::cli
