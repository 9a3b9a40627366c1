#include "cli/mydata_cmd.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <functional>
#include <thread>

#include "cli/serve.h"
#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "gateway/signed_part.h"
#include "globalconf/model.h"
#include "mydata/consent.h"
#include "mydata/package.h"
#include "mydata/server.h"

namespace troad::cli {

// One registry the operator maintains (datasets, service providers), as the same six
// commands.
struct RegistryCommands {
  CLI::App* group = nullptr;
  CLI::App* add = nullptr;
  CLI::App* update = nullptr;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* disable = nullptr;
  CLI::App* enable = nullptr;
};

struct MyDataCommands {
  CLI::App* mydata = nullptr;
  CLI::App* init = nullptr;
  CLI::App* rotate_key = nullptr;
  CLI::App* package_verify = nullptr;
  CLI::App* consent_verify = nullptr;
  std::string globalconf_file;
  std::string jwks_file;
  std::string password_file;
  RegistryCommands datasets;
  RegistryCommands providers;

  std::string config_file;
  mydata::InitMyDataOptions init_options;
  std::string id;
  std::string file;
};

namespace {

int Fail(std::string_view command, const std::string& message, int status) {
  std::fprintf(stderr, "troad mydata %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               message.c_str());
  return status;
}

int StatusFor(const Error& e) { return e.code() == ErrorCode::kInvalidArgument ? 2 : 1; }

// What the registry commands need of a registry, whichever it is.
struct Registry {
  std::string name;  // "dataset", "sp"
  std::function<Status(const nlohmann::json&)> add;
  std::function<Status(const nlohmann::json&)> update;
  std::function<Result<std::vector<nlohmann::json>>()> list;
  std::function<Result<nlohmann::json>(const std::string&)> show;
  std::function<Status(const std::string&, bool)> set_enabled;
  // One line of `list`.
  std::function<std::string(const nlohmann::json&)> line;
};

int RunRegistry(const MyDataCommands& o, const RegistryCommands& c, const Registry& r) {
  auto command = [&](const char* sub) { return r.name + " " + sub; };
  if (*c.add || *c.update) {
    const char* sub = c.add->parsed() ? "add" : "update";
    auto text = ReadFile(o.file);
    if (!text) return Fail(command(sub), text.error().message(), 2);
    auto json = ParseJson(*text, o.file, 16);
    if (!json) return Fail(command(sub), json.error().message(), 2);
    auto st = c.add->parsed() ? r.add(*json) : r.update(*json);
    if (!st) return Fail(command(sub), st.error().message(), StatusFor(st.error()));
    std::printf("%s %s %s\n", r.name.c_str(), json->value("id", "").c_str(),
                c.add->parsed() ? "added" : "updated");
    return 0;
  }
  if (*c.list) {
    auto list = r.list();
    if (!list) return Fail(command("list"), list.error().message(), 1);
    for (const auto& j : *list) std::printf("%s\n", r.line(j).c_str());
    return 0;
  }
  if (*c.show) {
    auto j = r.show(o.id);
    if (!j) return Fail(command("show"), j.error().message(), 1);
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  if (*c.disable || *c.enable) {
    bool enable = c.enable->parsed();
    if (auto st = r.set_enabled(o.id, enable); !st) {
      return Fail(command(enable ? "enable" : "disable"), st.error().message(), 1);
    }
    std::printf("%s %s %s\n", r.name.c_str(), o.id.c_str(), enable ? "enabled" : "disabled");
    return 0;
  }
  return Fail(r.name, "choose add, update, list, show, disable or enable", 2);
}

int RunRegistries(const MyDataCommands& o) {
  if (o.config_file.empty()) return Fail("", "--config mydata.toml is required", 2);
  auto config = mydata::MyDataConfig::Load(o.config_file);
  if (!config) return Fail("", config.error().message(), 2);
  auto db = mydata::OpenMyDataDatabase(*config, SystemClock::Get());
  if (!db) return Fail("", db.error().message(), 1);
  const Clock& clock = SystemClock::Get();
  if (*o.rotate_key) {
    store::SigningKeys keys(**db, clock, config->api.consent_keys);
    auto kid = keys.Rotate();
    if (!kid) return Fail("rotate-key", kid.error().message(), 1);
    std::printf("new consent signing key: %s\n", kid->c_str());
    return 0;
  }
  auto enabled_text = [](const nlohmann::json& j) {
    return j.value("enabled", false) ? "enabled " : "disabled";
  };
  if (*o.datasets.group) {
    mydata::Catalogue catalogue(**db, clock);
    Registry r;
    r.name = "dataset";
    r.add = [&](const nlohmann::json& j) -> Status {
      TROAD_ASSIGN_OR_RETURN(auto d, mydata::DatasetFromJson(j));
      return catalogue.Add(d);
    };
    r.update = [&](const nlohmann::json& j) -> Status {
      TROAD_ASSIGN_OR_RETURN(auto d, mydata::DatasetFromJson(j));
      return catalogue.Update(d);
    };
    r.list = [&]() -> Result<std::vector<nlohmann::json>> {
      TROAD_ASSIGN_OR_RETURN(auto list, catalogue.List(true));
      std::vector<nlohmann::json> out;
      for (const auto& d : list) out.push_back(mydata::DatasetToJson(d));
      return out;
    };
    r.show = [&](const std::string& id) -> Result<nlohmann::json> {
      TROAD_ASSIGN_OR_RETURN(auto d, catalogue.Get(id));
      return mydata::DatasetToJson(d);
    };
    r.set_enabled = [&](const std::string& id, bool on) { return catalogue.SetEnabled(id, on); };
    r.line = [&](const nlohmann::json& j) {
      return fmt::format("{:<28} {} {:<44} {}", j["id"].get<std::string>(), enabled_text(j),
                         j["service"].get<std::string>(), j["name"]["zh-TW"].get<std::string>());
    };
    return RunRegistry(o, o.datasets, r);
  }
  mydata::ServiceProviders providers(**db, clock);
  Registry r;
  r.name = "sp";
  r.add = [&](const nlohmann::json& j) -> Status {
    TROAD_ASSIGN_OR_RETURN(auto sp, mydata::ServiceProviderFromJson(j));
    return providers.Add(sp);
  };
  r.update = [&](const nlohmann::json& j) -> Status {
    TROAD_ASSIGN_OR_RETURN(auto sp, mydata::ServiceProviderFromJson(j));
    return providers.Update(sp);
  };
  r.list = [&]() -> Result<std::vector<nlohmann::json>> {
    TROAD_ASSIGN_OR_RETURN(auto list, providers.List());
    std::vector<nlohmann::json> out;
    for (const auto& sp : list) out.push_back(mydata::ServiceProviderToJson(sp));
    return out;
  };
  r.show = [&](const std::string& id) -> Result<nlohmann::json> {
    TROAD_ASSIGN_OR_RETURN(auto sp, providers.Get(id));
    return mydata::ServiceProviderToJson(sp);
  };
  r.set_enabled = [&](const std::string& id, bool on) { return providers.SetEnabled(id, on); };
  r.line = [&](const nlohmann::json& j) {
    return fmt::format("{:<24} {} {:<16} {}", j["id"].get<std::string>(), enabled_text(j),
                       j["auth"]["method"].get<std::string>(),
                       j["name"]["zh-TW"].get<std::string>());
  };
  return RunRegistry(o, o.providers, r);
}

// `troad mydata package verify`: what a person, a service provider or an auditor runs
// on a package, trusting nothing MyData says — the manifest's digests, each part's
// provider signature against the T-Road trust anchors of a global configuration, and
// (with --jwks) the consent record against MyData's published keys and the datasets it
// covers. Prints one line per part; exit 1 naming the first thing that fails.
int VerifyPackage(const MyDataCommands& o) {
  const char* cmd = "package verify";
  auto zip = ReadFile(o.file);
  if (!zip) return Fail(cmd, zip.error().message(), 2);
  std::string password;
  if (!o.password_file.empty()) {
    auto text = ReadFile(o.password_file);
    if (!text) return Fail(cmd, text.error().message(), 2);
    password = text->substr(0, text->find('\n'));
  } else if (const char* env = std::getenv("TROAD_PACKAGE_PASSWORD")) {
    password = env;
  }
  auto conf = globalconf::GlobalConf::LoadFile(o.globalconf_file);
  if (!conf) return Fail(cmd, "--globalconf: " + conf.error().message(), 2);
  auto package = mydata::ReadPackage(*zip, password);
  if (!package) return Fail(cmd, o.file + ": " + package.error().message(), 1);
  std::printf("%s: transaction %s, %zu dataset(s); every file matches the manifest\n",
              o.file.c_str(), package->transaction.c_str(), package->parts.size());
  for (const auto& part : package->parts) {
    auto h = gateway::VerifySignedPart({part.body, part.response_header, part.response_signature},
                                       part.certificate_der, &(*conf)->trust());
    if (!h) return Fail(cmd, part.dataset + ": " + h.error().message(), 1);
    if (h->service.ToString() != part.service) {
      return Fail(
          cmd, part.dataset + ": signed for " + h->service.ToString() + ", not " + part.service, 1);
    }
    std::printf("  %-28s signed by %s at %s (%zu bytes)\n", part.dataset.c_str(),
                h->service.provider.Member().ToString().c_str(),
                FormatRfc3339(FromUnixMillis(h->time_ms)).c_str(), part.body.size());
  }
  if (o.jwks_file.empty()) {
    std::printf("consent record: not checked (give --jwks with MyData's /jwks)\n");
    return 0;
  }
  auto jwks_text = ReadFile(o.jwks_file);
  if (!jwks_text) return Fail(cmd, jwks_text.error().message(), 2);
  auto jwks = ParseJson(*jwks_text, o.jwks_file);
  if (!jwks) return Fail(cmd, jwks.error().message(), 2);
  auto consent = mydata::VerifyConsent(package->consent_jws, *jwks);
  if (!consent) return Fail(cmd, "consent record: " + consent.error().message(), 1);
  if (consent->transaction != package->transaction) {
    return Fail(cmd, "consent record: it is for transaction " + consent->transaction, 1);
  }
  for (const auto& part : package->parts) {
    if (std::find(consent->datasets.begin(), consent->datasets.end(), part.dataset) ==
        consent->datasets.end()) {
      return Fail(cmd, "consent record: " + part.dataset + " was not consented to", 1);
    }
  }
  std::printf("consent record %s: signed by MyData, covers every dataset (%s)\n",
              consent->consent_id.c_str(), consent->purpose.c_str());
  return 0;
}

// `troad mydata consent verify`: an auditor's check of one consent record (a compact
// JWS) against MyData's published keys; prints the record.
int VerifyConsentRecord(const MyDataCommands& o) {
  const char* cmd = "consent verify";
  auto jws = ReadFile(o.file);
  if (!jws) return Fail(cmd, jws.error().message(), 2);
  auto jwks_text = ReadFile(o.jwks_file);
  if (!jwks_text) return Fail(cmd, jwks_text.error().message(), 2);
  auto jwks = ParseJson(*jwks_text, o.jwks_file);
  if (!jwks) return Fail(cmd, jwks.error().message(), 2);
  std::string compact = *jws;
  while (!compact.empty() && (compact.back() == '\n' || compact.back() == '\r')) {
    compact.pop_back();
  }
  auto record = mydata::VerifyConsent(compact, *jwks);
  if (!record) return Fail(cmd, record.error().message(), 1);
  std::printf("consent record signed by MyData:\n%s\n",
              mydata::ConsentToJson(*record).dump(2).c_str());
  return 0;
}

void AddRegistryCommands(MyDataCommands& o, RegistryCommands& c, const char* name, const char* help,
                         const char* what) {
  c.group = o.mydata->add_subcommand(name, help);
  c.group->require_subcommand(1);
  auto add = [&](CLI::App*& sub, const char* sub_name, std::string sub_help) {
    sub = c.group->add_subcommand(sub_name, sub_help);
    sub->add_option("-c,--config", o.config_file, "mydata.toml")->required();
  };
  add(c.add, "add",
      fmt::format("Register a {} from a JSON file (the management API's shape)", what));
  c.add->add_option("--file", o.file, "JSON file")->required();
  add(c.update, "update", fmt::format("Replace a {}'s registration from a JSON file", what));
  c.update->add_option("--file", o.file, "JSON file")->required();
  add(c.list, "list", fmt::format("List every {}", what));
  add(c.show, "show", fmt::format("Show a {} as JSON", what));
  add(c.disable, "disable", fmt::format("Stop a {} being used in new transactions", what));
  add(c.enable, "enable", fmt::format("Let a disabled {} be used again", what));
  for (CLI::App* sub : {c.show, c.disable, c.enable}) {
    sub->add_option("--id", o.id, "id")->required();
  }
}

}  // namespace

std::shared_ptr<MyDataCommands> AddMyDataCommands(CLI::App& app) {
  auto o = std::make_shared<MyDataCommands>();
  o->mydata = app.add_subcommand(
      "mydata",
      "Run MyData, where people consent and have their data delivered (--config mydata.toml); "
      "init, the dataset catalogue, service providers, rotate the consent signing key");
  o->mydata->add_option("-c,--config", o->config_file, "mydata.toml");
  o->mydata->require_subcommand(0, 1);

  o->init = o->mydata->add_subcommand("init", "Make a new MyData: mydata.toml, database, key");
  o->init->add_option("--dir", o->init_options.dir, "directory to create")->required();
  o->init->add_option("--public-url", o->init_options.public_url,
                      "the URL people and service providers use (default http://localhost:4700)");
  o->init->add_option("--listen", o->init_options.listen, "address:port (default 127.0.0.1:4700)");

  AddRegistryCommands(*o, o->datasets, "dataset", "The dataset catalogue", "dataset");
  AddRegistryCommands(*o, o->providers, "sp", "Service providers (banks, counties, agencies)",
                      "service provider");
  o->rotate_key = o->mydata->add_subcommand(
      "rotate-key", "Sign consent records with a new key now (old keys stay published)");
  o->rotate_key->add_option("-c,--config", o->config_file, "mydata.toml")->required();

  auto* package = o->mydata->add_subcommand("package", "Packages of personal data");
  package->require_subcommand(1);
  o->package_verify = package->add_subcommand(
      "verify",
      "Check a package without trusting MyData: digests, each provider's signature, the consent "
      "(the password, if any, from --password-file or TROAD_PACKAGE_PASSWORD)");
  o->package_verify->add_option("--file", o->file, "the package (.zip)")->required();
  o->package_verify
      ->add_option("--globalconf", o->globalconf_file,
                   "a T-Road global configuration (its trust anchors check the providers)")
      ->required();
  o->package_verify->add_option("--jwks", o->jwks_file, "MyData's /jwks, to check the consent");
  o->package_verify->add_option("--password-file", o->password_file,
                                "file whose first line is the package's password");

  auto* consent = o->mydata->add_subcommand("consent", "Signed consent records");
  consent->require_subcommand(1);
  o->consent_verify = consent->add_subcommand(
      "verify", "Check a consent record (compact JWS) against MyData's published keys");
  o->consent_verify->add_option("--file", o->file, "the record (a file holding the JWS)")
      ->required();
  o->consent_verify->add_option("--jwks", o->jwks_file, "MyData's /jwks (a file)")->required();
  return o;
}

std::optional<int> RunMyDataCommand(const MyDataCommands& o) {
  if (!*o.mydata) return std::nullopt;
  if (*o.init) {
    auto result = mydata::InitMyData(o.init_options, SystemClock::Get());
    if (!result) return Fail("init", result.error().message(), StatusFor(result.error()));
    std::printf("mydata configuration: %s\n", result->config_file.c_str());
    std::printf("management token:     %s\n(shown once; only its SHA-256 is kept in mydata.toml)\n",
                result->management_token.c_str());
    std::printf("start it:             troad mydata --config %s\n", result->config_file.c_str());
    return 0;
  }
  if (*o.package_verify) return VerifyPackage(o);
  if (*o.consent_verify) return VerifyConsentRecord(o);
  if (*o.datasets.group || *o.providers.group || *o.rotate_key) return RunRegistries(o);
  if (o.config_file.empty()) {
    return Fail("", "--config mydata.toml is required (or `troad mydata init`)", 2);
  }
  return RunService<mydata::MyData, mydata::MyDataConfig>("mydata", o.config_file);
}

}  // namespace troad::cli
