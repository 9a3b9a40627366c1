// Fuzzes the global configuration document (GlobalConf::Parse), which a gateway
// downloads and reads from disk. Beyond not crashing: every listed member,
// subsystem, gateway and service is found again through the indexes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "globalconf/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::globalconf;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = GlobalConf::Parse(input);
  if (!parsed) return 0;
  const GlobalConf& conf = **parsed;
  FUZZ_CHECK(conf.expires_at() > conf.issued_at());
  FUZZ_CHECK(!conf.trusted_cas().empty());
  for (const Member& m : conf.members()) {
    FUZZ_CHECK(conf.FindMember(m.id) != nullptr && conf.IsKnownClient(m.id));
    for (const auto& cert : m.signing_certificates) {
      FUZZ_CHECK(conf.OwnerOf(cert.Sha256Fingerprint()) != nullptr);
    }
  }
  for (const Subsystem& s : conf.subsystems()) {
    FUZZ_CHECK(conf.FindSubsystem(s.id) != nullptr);
    FUZZ_CHECK(conf.FindMember(s.id.Member()) != nullptr);
  }
  for (const Gateway& g : conf.gateways()) {
    FUZZ_CHECK(conf.FindGateway(g.id) != nullptr && g.port != 0);
    for (const auto& client : g.clients) {
      FUZZ_CHECK(conf.FindSubsystem(client) != nullptr);
      FUZZ_CHECK(!conf.GatewaysServing(client).empty());
    }
  }
  for (const Service& s : conf.services()) FUZZ_CHECK(conf.FindService(s.id) != nullptr);
  for (const Grant& g : conf.grants()) {
    FUZZ_CHECK(conf.FindService(g.service) != nullptr);
    FUZZ_CHECK(!conf.GrantsFor(g.client, g.service).empty());
  }
  return 0;
}
