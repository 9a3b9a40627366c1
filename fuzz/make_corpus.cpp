// Writes the seed inputs that only the real code can make: signed envelopes in the
// exact wire format, and a global configuration with real certificates. Run once;
// the output is kept in fuzz/corpus/ beside the hand-written seeds.
//   make_fuzz_corpus fuzz/corpus
// Thread-safety: a one-shot program.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/ca.h"
#include "gateway/envelope.h"
#include "ledger/merkle.h"

namespace {

namespace fs = std::filesystem;
using namespace troad;
using nlohmann::json;

bool Write(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out.flush()) {
    std::fprintf(stderr, "cannot write %s\n", file.c_str());
    return false;
  }
  return true;
}

// The signature parts of one batch over `headers`, as BatchSigner makes them.
std::vector<gateway::SignaturePart> SignBatch(const crypto::PrivateKey& key,
                                              const crypto::Certificate& cert,
                                              const std::vector<std::string>& headers) {
  std::vector<ledger::Hash> leaves;
  for (const auto& h : headers) leaves.push_back(ledger::LeafHash(h));
  ledger::MerkleTree tree(leaves);
  auto sig = key.Sign(gateway::BatchSignatureInput(tree.size(), tree.root()));
  std::vector<gateway::SignaturePart> parts;
  for (size_t i = 0; i < headers.size(); ++i) {
    parts.push_back({std::string(key.Algorithm()), cert.Sha256Fingerprint(), tree.size(), i,
                     tree.Proof(i), sig ? *sig : std::string()});
  }
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  fs::path out = argv[1];
  FakeClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  auto ca_key = crypto::PrivateKey::GenerateEcP256();
  auto sign_key = crypto::PrivateKey::GenerateEcP256();
  auto auth_key = crypto::PrivateKey::GenerateEcP256();
  if (!ca_key || !sign_key || !auth_key) return 1;
  crypto::CertificateRequest req;
  req.common_name = "TW fuzz CA";
  auto ca = crypto::CreateSelfSignedCa(*ca_key, req, clock);
  req.common_name = "TW/GOV/MOI";
  req.usage = crypto::CertUsage::kSigning;
  auto sign_cert = ca ? crypto::IssueCertificate(*ca, *ca_key, sign_key->Public(), req, clock)
                      : Fail(ErrorCode::kInternal, "no CA");
  req.common_name = "TW/GOV/MOI/gw1";
  req.usage = crypto::CertUsage::kAuthentication;
  auto auth_cert = ca ? crypto::IssueCertificate(*ca, *ca_key, auth_key->Public(), req, clock)
                      : Fail(ErrorCode::kInternal, "no CA");
  if (!ca || !sign_cert || !auth_cert) {
    std::fprintf(stderr, "cannot make certificates\n");
    return 1;
  }

  // Envelopes: a request with a body, a response, a body-less GET in a batch of three.
  gateway::RequestHeader rq;
  rq.id = "TW-5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
  rq.request_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  rq.client = *ClientId::Parse("TW/GOV/BLI/insurance");
  rq.service = *ServiceId::Parse("TW/GOV/MOI/household/getRecord");
  rq.method = "POST";
  rq.path = "/records/A123456789";
  rq.query = "fields=name";
  rq.user_id = "TW-A123456789";
  rq.issue = "case 42";
  rq.represented_party = "GOV/TAX";
  rq.consumer_gateway = *GatewayId::Parse("TW/GOV/BLI/gw1");
  rq.provider_gateway = *GatewayId::Parse("TW/GOV/MOI/gw1");
  rq.time_ms = 1'767'225'600'000;
  std::string body = R"({"id":"A123456789"})";
  rq.body_length = body.size();
  rq.body_sha512 = crypto::Sha512(body);
  rq.headers = {{"content-type", "application/json"}, {"accept", "*/*"}};
  std::string request_h = gateway::SerializeRequestHeader(rq);

  gateway::RequestHeader get = rq;
  get.method = "GET";
  get.body_length = 0;
  get.body_sha512 = crypto::Sha512("");
  get.headers.clear();
  std::string get_h = gateway::SerializeRequestHeader(get);

  gateway::ResponseHeader rs;
  rs.id = rq.id;
  rs.request_id = rq.request_id;
  rs.request_hash = gateway::ComputeRequestHash(request_h, rq.body_sha512);
  rs.client = rq.client;
  rs.service = rq.service;
  rs.status = 200;
  rs.time_ms = rq.time_ms + 12;
  std::string response_body = R"({"name":"王小明"})";
  rs.body_length = response_body.size();
  rs.body_sha512 = crypto::Sha512(response_body);
  rs.headers = {{"content-type", "application/json; charset=utf-8"}};
  std::string response_h = gateway::SerializeResponseHeader(rs);

  auto single = SignBatch(*sign_key, *sign_cert, {request_h});
  auto batch = SignBatch(*sign_key, *sign_cert, {"other-1", get_h, "other-2"});
  auto response_sig = SignBatch(*sign_key, *sign_cert, {response_h});
  fs::path env = out / "fuzz_envelope";
  bool ok = true;
  ok &= Write(env / "request.bin",
              gateway::EncodeEnvelopePrefix(request_h, gateway::SerializeSignaturePart(single[0])) +
                  body);
  ok &= Write(env / "request_in_batch.bin",
              gateway::EncodeEnvelopePrefix(get_h, gateway::SerializeSignaturePart(batch[1])));
  ok &= Write(env / "response.bin",
              gateway::EncodeEnvelopePrefix(response_h,
                                            gateway::SerializeSignaturePart(response_sig[0])) +
                  response_body);
  ok &= Write(env / "empty_parts.bin", gateway::EncodeEnvelopePrefix("", ""));

  // A global configuration in the shape `troad init` writes.
  json conf = {
      {"format", "troad-globalconf/1"},
      {"instance", "TW"},
      {"version", 3},
      {"issued_at", "2026-01-01T00:00:00Z"},
      {"expires_at", "2026-01-31T00:00:00Z"},
      {"settings", {{"max_clock_skew_ms", 60000}, {"refresh_interval_s", 60}}},
      {"trusted_cas", {ca->ToPem()}},
      {"revoked_certificates", json::array({std::string(64, 'a')})},
      {"members",
       {{{"id", "TW/GOV/MOI"},
         {"name", "內政部"},
         {"name_en", "Ministry of the Interior"},
         {"signing_certificates", {sign_cert->ToPem()}}},
        {{"id", "TW/GOV/BLI"}, {"name", "勞動部勞工保險局"}}}},
      {"subsystems",
       {{{"id", "TW/GOV/MOI/household"}, {"name", "戶政"}}, {{"id", "TW/GOV/BLI/insurance"}}}},
      {"gateways",
       {{{"id", "TW/GOV/MOI/gw1"},
         {"address", "127.0.0.1:8443"},
         {"auth_certificate", auth_cert->ToPem()},
         {"clients", {"TW/GOV/MOI/household"}}}}},
      {"services",
       {{{"id", "TW/GOV/MOI/household/getRecord"},
         {"type", "REST"},
         {"enabled", true},
         {"disabled_notice", ""},
         {"endpoints", {{{"method", "GET"}, {"path", "/records/{id}"}}}}}}},
      {"grants",
       {{{"client", "TW/GOV/BLI/insurance"},
         {"service", "TW/GOV/MOI/household/getRecord"},
         {"rules", {{{"method", "*"}, {"path", "/records/**"}}}}}}},
  };
  ok &= Write(out / "fuzz_globalconf" / "network.json", conf.dump(2));
  json minimal = {{"format", "troad-globalconf/1"}, {"instance", "TW"},
                  {"version", 1},                  {"issued_at", "2026-01-01T00:00:00Z"},
                  {"expires_at", "2026-01-02T00:00:00+08:00"},
                  {"trusted_cas", {ca->ToPem()}},  {"members", json::array()}};
  ok &= Write(out / "fuzz_globalconf" / "minimal.json", minimal.dump());
  return ok ? 0 : 1;
}
