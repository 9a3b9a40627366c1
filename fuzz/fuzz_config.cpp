// Fuzzes TOML configuration reading (TomlDocument::Parse) and walking the parsed
// document the way the configuration readers do: every accessor on every key of the
// gateway.toml schema, whatever type the document gives it, then Finish() with its
// unknown-key report. Beyond not crashing: every error names the file (core/config.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "fuzz_check.h"

namespace {

using troad::ConfigSection;

struct Table {
  const char* name;
  bool is_list;  // [[name]] rather than [name]
  std::vector<const char*> keys;
};

// gateway.toml (gateway/config.cpp) and network.toml (cli/init.cpp) together.
const std::vector<Table>& Schema() {
  static const std::vector<Table> kSchema = {
      {"gateway", false, {"id", "globalconf", "data_dir", "threads"}},
      {"listen", false, {"consumer", "consumer_tls", "provider", "admin"}},
      {"tls", false, {"certificate", "key", "local_certificate", "local_key"}},
      {"signing", true, {"member", "certificate", "key"}},
      {"client", true, {"id", "connection", "certificates"}},
      {"service", true, {"id", "backend", "openapi", "timeout_ms"}},
      {"limits", false, {"max_body_bytes", "exchange_timeout_ms"}},
      {"message_log", false, {"synchronous"}},
      {"logging", false, {"level", "format"}},
      {"members", true, {"id", "name", "name_en", "subsystems"}},
      {"gateways", true, {"name", "owner", "local_listen", "peer_listen", "clients"}},
      {"grants", true, {"client", "service", "rules"}},
  };
  return kSchema;
}

// Reads `key` with one accessor chosen by `how`, so that each key meets every
// accessor across inputs.
bool ReadKey(ConfigSection& s, const char* key, uint8_t how) {
  switch (how % 7) {
    case 0:
      (void)s.String(key, "default");
      break;
    case 1:
      (void)s.RequiredString(key);
      break;
    case 2:
      (void)s.Int(key, 1, 0, 65535);
      break;
    case 3:
      (void)s.Bool(key, false);
      break;
    case 4:
      (void)s.StringList(key);
      break;
    case 5: {
      ConfigSection sub = s.Section(key);
      (void)sub.String("x");
      break;
    }
    default:
      for (ConfigSection& sub : s.SectionList(key)) (void)sub.OptionalString("method");
      break;
  }
  return s.Has(key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the accessors; the rest is the document.
  uint8_t how = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto doc = troad::TomlDocument::Parse(text, "fuzz.toml");
  if (!doc) {
    FUZZ_CHECK(doc.error().message().find("fuzz.toml") != std::string::npos);
    return 0;
  }
  ConfigSection root = (*doc)->Root();
  (void)root.RequiredString("instance");
  (void)root.Int("globalconf_validity_days", 30, 1, 3650);
  uint8_t n = 0;
  for (const Table& t : Schema()) {
    std::vector<ConfigSection> sections;
    if (t.is_list) {
      sections = root.SectionList(t.name);
    } else {
      sections.push_back(root.Section(t.name));
    }
    for (ConfigSection& s : sections) {
      for (const char* key : t.keys) {
        ReadKey(s, key, static_cast<uint8_t>(how + n++));
      }
    }
  }
  auto finished = (*doc)->Finish();
  if (!finished) FUZZ_CHECK(finished.error().message().find("fuzz.toml") != std::string::npos);
  return 0;
}
