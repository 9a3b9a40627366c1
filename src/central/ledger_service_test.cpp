// The central's ledger over HTTP, driven through Handle with really signed requests:
// what add-entries promises (a checkpoint and proofs that verify), what it refuses and
// with which status, every read route and its parameters, and that a reopened ledger
// is the same ledger.
#include "central/ledger_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/json_writer.h"
#include "crypto/ca.h"
#include "crypto/hash.h"
#include "crypto/test_util.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/merkle.h"
#include "ledger/proof.h"

namespace troad::central {
namespace {

namespace bhttp = boost::beast::http;
using ledger::Hash;
using ledger::LedgerEntry;
using nlohmann::json;

const SystemTime kStart = *ParseRfc3339("2026-03-01T08:00:00Z");
constexpr std::string_view kOrigin = "ledger.troad.tw/test";
constexpr std::string_view kMoiGateway = "TW/GOV/MOI/gw1";
constexpr std::string_view kBliGateway = "TW/GOV/BLI/gw1";

struct Party {
  crypto::PrivateKey key;
  crypto::Certificate certificate;
  std::string fingerprint() const { return certificate.Sha256Fingerprint(); }
};

// One CA and the certificates the tests sign with, made once.
struct Pki {
  crypto::Certificate ca;
  Party moi;          // MOI's gateway
  Party bli;          // BLI's gateway
  Party revoked;      // NDC's gateway, revoked
  Party short_lived;  // ICT's gateway: valid for an hour
  Party moi_signing;  // MOI's member signing certificate
  Party stranger;     // issued by the CA, listed nowhere
};

Party Issue(const crypto::Certificate& ca, const crypto::PrivateKey& ca_key, const std::string& cn,
            crypto::CertUsage usage, const Clock& clock,
            std::chrono::seconds validity = std::chrono::hours(24 * 365)) {
  auto key = crypto::PrivateKey::GenerateEcP256().value();
  crypto::CertificateRequest req;
  req.common_name = cn;
  req.usage = usage;
  req.validity = validity;
  auto cert = crypto::IssueCertificate(ca, ca_key, key.Public(), req, clock).value();
  return Party{key, cert};
}

const Pki& TestPki() {
  static const Pki* pki = [] {
    FakeClock clock(kStart);
    auto ca_key = crypto::PrivateKey::GenerateEcP256().value();
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    auto ca = crypto::CreateSelfSignedCa(ca_key, req, clock).value();
    using crypto::CertUsage;
    return new Pki{ca,
                   Issue(ca, ca_key, "TW/GOV/MOI/gw1", CertUsage::kAuthentication, clock),
                   Issue(ca, ca_key, "TW/GOV/BLI/gw1", CertUsage::kAuthentication, clock),
                   Issue(ca, ca_key, "TW/GOV/NDC/gw1", CertUsage::kAuthentication, clock),
                   Issue(ca, ca_key, "TW/GOV/ICT/gw1", CertUsage::kAuthentication, clock,
                         std::chrono::hours(1)),
                   Issue(ca, ca_key, "TW/GOV/MOI", CertUsage::kSigning, clock),
                   Issue(ca, ca_key, "TW/GOV/XYZ/gw1", CertUsage::kAuthentication, clock)};
  }();
  return *pki;
}

std::shared_ptr<const globalconf::GlobalConf> TestConf() {
  const Pki& pki = TestPki();
  auto gateway = [](std::string_view id, const Party& p, std::string_view client) {
    return json{{"id", id},
                {"address", "gw.example:8443"},
                {"auth_certificate", p.certificate.ToPem()},
                {"clients", {client}}};
  };
  json doc = {
      {"format", "troad-globalconf/1"},
      {"instance", "TW"},
      {"version", 3},
      {"issued_at", "2026-03-01T00:00:00Z"},
      {"expires_at", "2027-03-01T00:00:00Z"},
      {"trusted_cas", {pki.ca.ToPem()}},
      {"revoked_certificates", {pki.revoked.fingerprint()}},
      {"members",
       {{{"id", "TW/GOV/MOI"},
         {"name", "內政部"},
         {"signing_certificates", {pki.moi_signing.certificate.ToPem()}}},
        {{"id", "TW/GOV/BLI"}, {"name", "勞保局"}},
        {{"id", "TW/GOV/NDC"}, {"name", "國發會"}},
        {{"id", "TW/GOV/ICT"}, {"name", "數位部"}}}},
      {"subsystems",
       {{{"id", "TW/GOV/MOI/household"}},
        {{"id", "TW/GOV/BLI/insurance"}},
        {{"id", "TW/GOV/NDC/plan"}},
        {{"id", "TW/GOV/ICT/ops"}}}},
      {"gateways",
       {gateway(kMoiGateway, pki.moi, "TW/GOV/MOI/household"),
        gateway(kBliGateway, pki.bli, "TW/GOV/BLI/insurance"),
        gateway("TW/GOV/NDC/gw1", pki.revoked, "TW/GOV/NDC/plan"),
        gateway("TW/GOV/ICT/gw1", pki.short_lived, "TW/GOV/ICT/ops")}},
  };
  auto conf = globalconf::GlobalConf::Parse(doc.dump());
  EXPECT_TRUE(conf) << conf.error().ToString();
  return conf ? *conf : nullptr;
}

std::string RequestId(int n) { return fmt::format("019c0000-0000-7000-8000-{:012d}", n); }

LedgerEntry MakeEntry(std::string_view gateway, int64_t seq, std::string request_id = "") {
  LedgerEntry e;
  e.gateway = std::string(gateway);
  e.seq = seq;
  e.side = gateway == kMoiGateway ? "provider" : "consumer";
  e.message_id = fmt::format("TW-{}", seq);
  e.request_id = request_id.empty() ? RequestId(static_cast<int>(seq)) : std::move(request_id);
  e.client = "TW/GOV/BLI/insurance";
  e.service = "TW/GOV/MOI/household/registry";
  e.status = 200;
  e.request_time_ms = 1772352000000 + seq;
  e.response_time_ms = 1772352000010 + seq;
  e.request_hash = Base64Encode(crypto::DigestView(crypto::Sha512("request " + e.request_id)));
  e.response_hash = Base64Encode(crypto::DigestView(crypto::Sha512("response " + e.request_id)));
  e.record = HexEncode(crypto::DigestView(crypto::Sha256(fmt::format("{} {}", gateway, seq))));
  return e;
}

std::string Bytes(const LedgerEntry& e) {
  auto bytes = ledger::EncodeLedgerEntry(e);
  EXPECT_TRUE(bytes) << bytes.error().ToString();
  return bytes.value_or("");
}

std::vector<std::string> Entries(std::string_view gateway, int64_t first_seq, int64_t last_seq) {
  std::vector<std::string> out;
  for (int64_t s = first_seq; s <= last_seq; ++s) out.push_back(Bytes(MakeEntry(gateway, s)));
  return out;
}

std::string Body(std::string_view gateway, uint64_t known_size,
                 const std::vector<std::string>& entries) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Member("gateway", gateway).Member("known_size", known_size).Key("entries");
  w.BeginArray();
  for (const std::string& e : entries) w.String(Base64Encode(e));
  w.EndArray().EndObject();
  return out;
}

http::Request Signed(std::string body, const Party& signer, std::string fingerprint = "") {
  http::Request req{bhttp::verb::post, "/ledger/v1/add-entries", 11};
  req.set(bhttp::field::content_type, "application/json");
  req.set(ledger::kLedgerCertificateHeader,
          fingerprint.empty() ? signer.fingerprint() : fingerprint);
  const std::string sig =
      signer.key.Sign(std::string(ledger::kLedgerAddSignaturePrefix) + body).value();
  req.set(ledger::kLedgerSignatureHeader, Base64Encode(sig));
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

http::Request Get(std::string target) {
  http::Request req{bhttp::verb::get, target, 11};
  req.prepare_payload();
  return req;
}

json JsonOf(const http::Response& res) {
  json j = json::parse(res.body(), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << res.body();
  return j;
}

Hash HashOf(const json& b64) {
  Hash h{};
  auto bytes = Base64Decode(b64.get<std::string>());
  EXPECT_TRUE(bytes && bytes->size() == h.size());
  if (bytes && bytes->size() == h.size()) std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

// The root of the first n of `entries`.
Hash RootOf(const std::vector<std::string>& entries, size_t n) {
  if (n == 0) return ledger::EmptyRoot();
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(ledger::LeafHash(entries[i]));
  return ledger::RootFromLeaves(leaves);
}

std::vector<Hash> HashesOf(const json& list) {
  std::vector<Hash> out;
  for (const json& h : list) out.push_back(HashOf(h));
  return out;
}

class LedgerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ledger_key_.SavePemFile(dir_.File("ledger.key")));
    options_.key_file = dir_.File("ledger.key");
    options_.origin = std::string(kOrigin);
    conf_ = TestConf();
    ASSERT_TRUE(conf_);
    service_ = Open();
    ASSERT_TRUE(service_);
  }

  std::unique_ptr<LedgerService> Open() {
    auto service =
        LedgerService::Create(options_, dir_.File("ledger.db"), clock_, [this] { return conf_; });
    EXPECT_TRUE(service) << service.error().ToString();
    return service ? std::move(*service) : nullptr;
  }

  // Adds entries, expecting 200; the answer's JSON.
  json Add(const std::string& body, const Party& signer) {
    http::Response res = service_->Handle(Signed(body, signer));
    EXPECT_EQ(res.result_int(), 200u) << res.body();
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    return JsonOf(res);
  }

  // The status and error message of a refused request.
  std::pair<unsigned, std::string> Refusal(const http::Request& req) {
    http::Response res = service_->Handle(req);
    json j = json::parse(res.body(), nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string()) << res.body();
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    std::string message = j.is_object() && j.contains("error") && j["error"].is_string()
                              ? j["error"].get<std::string>()
                              : res.body();
    return {res.result_int(), message};
  }

  // Checks the whole promise of an add-entries answer: the checkpoint is signed by the
  // ledger, covers every index and has the root of exactly `all` entries; the inclusion
  // proof of the last entry and (from `known`) the consistency proof verify.
  ledger::Checkpoint CheckPromise(const json& answer, const std::vector<std::string>& all,
                                  uint64_t known, const Hash& known_root) {
    auto cp =
        ledger::VerifyCheckpoint(answer["checkpoint"].get<std::string>(), service_->public_key());
    EXPECT_TRUE(cp) << cp.error().ToString();
    if (!cp) return {};
    EXPECT_EQ(cp->origin, kOrigin);
    EXPECT_EQ(cp->size, all.size());
    std::vector<Hash> leaves;
    for (const std::string& e : all) leaves.push_back(ledger::LeafHash(e));
    EXPECT_EQ(cp->root, RootOf(all, all.size()));
    for (const json& e : answer["entries"]) EXPECT_LT(e["index"].get<uint64_t>(), cp->size);
    const uint64_t last = answer["inclusion"]["index"].get<uint64_t>();
    EXPECT_EQ(last, answer["entries"].back()["index"].get<uint64_t>());
    EXPECT_TRUE(ledger::VerifyInclusion(last, cp->size, leaves[last],
                                        HashesOf(answer["inclusion"]["proof"]), cp->root));
    if (known == 0) {
      EXPECT_FALSE(answer.contains("consistency")) << answer.dump();
    } else {
      EXPECT_TRUE(ledger::VerifyConsistency(known, cp->size, HashesOf(answer["consistency"]),
                                            known_root, cp->root));
    }
    return *cp;
  }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{kStart + std::chrono::minutes(5)};
  crypto::PrivateKey ledger_key_ = crypto::PrivateKey::GenerateEcP256().value();
  LedgerOptions options_;
  std::shared_ptr<const globalconf::GlobalConf> conf_;
  std::unique_ptr<LedgerService> service_;
};

TEST_F(LedgerServiceTest, AGoodAddIsAnsweredWithACheckpointAndProofsThatVerify) {
  const Pki& pki = TestPki();
  std::vector<std::string> all = Entries(kBliGateway, 1, 3);
  json first = Add(Body(kBliGateway, 0, all), pki.bli);
  EXPECT_EQ(first["entries"], json::parse(R"([{"seq":1,"index":0},{"seq":2,"index":1},
                                             {"seq":3,"index":2}])"));
  const ledger::Checkpoint head = CheckPromise(first, all, 0, ledger::EmptyRoot());
  EXPECT_EQ(head.timestamp_ms, clock_.NowMillis());

  // The next batch, from the head the gateway accepted.
  std::vector<std::string> more = Entries(kBliGateway, 4, 5);
  all.insert(all.end(), more.begin(), more.end());
  json second = Add(Body(kBliGateway, head.size, more), pki.bli);
  EXPECT_EQ(second["entries"], json::parse(R"([{"seq":4,"index":3},{"seq":5,"index":4}])"));
  CheckPromise(second, all, head.size, head.root);

  // Another gateway's entries go into the same log.
  std::vector<std::string> moi = Entries(kMoiGateway, 1, 1);
  all.push_back(moi[0]);
  json third = Add(Body(kMoiGateway, 5, moi), pki.moi);
  EXPECT_EQ(third["entries"], json::parse(R"([{"seq":1,"index":5}])"));
  CheckPromise(third, all, 5, RootOf(all, 5));

  EXPECT_EQ(service_->size(), 6u);
  EXPECT_EQ(service_->entries_added(), 6u);
  EXPECT_EQ(service_->add_requests(), 3u);
  EXPECT_EQ(service_->add_refusals(), 0u);
}

TEST_F(LedgerServiceTest, ResentEntriesKeepTheirIndicesAndAreNotAddedAgain) {
  const Pki& pki = TestPki();
  const std::vector<std::string> batch = Entries(kBliGateway, 1, 3);
  json first = Add(Body(kBliGateway, 0, batch), pki.bli);
  // The gateway did not see the answer: it sends the same again.
  json again = Add(Body(kBliGateway, 0, batch), pki.bli);
  EXPECT_EQ(again["entries"], first["entries"]);
  EXPECT_EQ(service_->size(), 3u);
  CheckPromise(again, batch, 0, ledger::EmptyRoot());

  // Held and new in one batch: the held keep their indices, the new are appended.
  std::vector<std::string> mixed = Entries(kBliGateway, 2, 5);
  json answer = Add(Body(kBliGateway, 3, mixed), pki.bli);
  EXPECT_EQ(answer["entries"], json::parse(R"([{"seq":2,"index":1},{"seq":3,"index":2},
                                              {"seq":4,"index":3},{"seq":5,"index":4}])"));
  std::vector<std::string> all = Entries(kBliGateway, 1, 5);
  CheckPromise(answer, all, 3, RootOf(all, 3));

  // A seq below the highest held that the ledger does not hold is new.
  std::vector<std::string> late = Entries(kBliGateway, 9, 9);
  late.push_back(Bytes(MakeEntry(kBliGateway, 10)));
  Add(Body(kBliGateway, 5, late), pki.bli);
  json gap = Add(Body(kBliGateway, 7, Entries(kBliGateway, 7, 7)), pki.bli);
  EXPECT_EQ(gap["entries"], json::parse(R"([{"seq":7,"index":7}])"));
  // The same seq of another gateway is another entry.
  json moi = Add(Body(kMoiGateway, 8, Entries(kMoiGateway, 1, 1)), pki.moi);
  EXPECT_EQ(moi["entries"], json::parse(R"([{"seq":1,"index":8}])"));
  EXPECT_EQ(service_->size(), 9u);
  EXPECT_EQ(service_->entries_added(), 9u);
  EXPECT_EQ(service_->add_requests(), 6u);
}

TEST_F(LedgerServiceTest, AnotherEntryAtAHeldSeqIsAConflict) {
  const Pki& pki = TestPki();
  Add(Body(kBliGateway, 0, Entries(kBliGateway, 1, 3)), pki.bli);
  LedgerEntry changed = MakeEntry(kBliGateway, 2);
  changed.status = 500;
  // The batch also holds a new entry: nothing of it is appended.
  const std::vector<std::string> batch = {Bytes(changed), Bytes(MakeEntry(kBliGateway, 4))};
  auto [status, message] = Refusal(Signed(Body(kBliGateway, 3, batch), pki.bli));
  EXPECT_EQ(status, 409u);
  EXPECT_NE(message.find("another entry for seq 2"), std::string::npos) << message;
  EXPECT_NE(message.find("index 1"), std::string::npos) << message;
  EXPECT_EQ(service_->size(), 3u);
  EXPECT_EQ(service_->add_refusals(), 1u);
}

TEST_F(LedgerServiceTest, ASignatureThatDoesNotVerifyIs401) {
  const Pki& pki = TestPki();
  const std::string body = Body(kBliGateway, 0, Entries(kBliGateway, 1, 1));
  // Signed by another key than the certificate's.
  auto [status, message] = Refusal(Signed(body, pki.moi, pki.bli.fingerprint()));
  EXPECT_EQ(status, 401u);
  EXPECT_NE(message.find("X-Troad-Signature does not verify"), std::string::npos) << message;
  // Signed over another body.
  http::Request req = Signed(Body(kBliGateway, 0, Entries(kBliGateway, 1, 2)), pki.bli);
  req.body() = body;
  req.prepare_payload();
  EXPECT_EQ(Refusal(req).first, 401u);
  // Without the prefix.
  req.set(ledger::kLedgerSignatureHeader, Base64Encode(pki.bli.key.Sign(body).value()));
  EXPECT_EQ(Refusal(req).first, 401u);
  // Not a DER signature at all.
  req.set(ledger::kLedgerSignatureHeader, Base64Encode("not a signature"));
  EXPECT_EQ(Refusal(req).first, 401u);
  EXPECT_EQ(service_->size(), 0u);
  EXPECT_EQ(service_->add_refusals(), 4u);
}

TEST_F(LedgerServiceTest, CertificatesThatMayNotAddAre403) {
  const Pki& pki = TestPki();
  struct Case {
    std::string name;
    std::string gateway;
    const Party* signer;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"another gateway's", std::string(kBliGateway), &pki.moi,
       "is gateway TW/GOV/MOI/gw1's, not gateway TW/GOV/BLI/gw1's"},
      {"revoked", "TW/GOV/NDC/gw1", &pki.revoked, "is revoked"},
      {"unknown", "TW/GOV/XYZ/gw1", &pki.stranger, "is not in the published global configuration"},
      {"a member's signing certificate", "TW/GOV/MOI", &pki.moi_signing,
       "not a gateway authentication certificate"},
  };
  for (const Case& c : cases) {
    const std::string body = Body(c.gateway, 0, {Bytes(MakeEntry(kBliGateway, 1))});
    auto [status, message] = Refusal(Signed(body, *c.signer));
    EXPECT_EQ(status, 403u) << c.name << ": " << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
  }
  // Valid for an hour: accepted now, refused once it has expired.
  const std::string ict = "TW/GOV/ICT/gw1";
  Add(Body(ict, 0, Entries(ict, 1, 1)), pki.short_lived);
  clock_.Advance(std::chrono::hours(2));
  auto [status, message] = Refusal(Signed(Body(ict, 1, Entries(ict, 2, 2)), pki.short_lived));
  EXPECT_EQ(status, 403u) << message;
  EXPECT_NE(message.find("is not valid now"), std::string::npos) << message;
  EXPECT_EQ(service_->size(), 1u);
}

TEST_F(LedgerServiceTest, EntriesMustNameTheGatewayAndIncreaseInSeq) {
  const Pki& pki = TestPki();
  auto refusal = [&](const std::vector<std::string>& entries) {
    return Refusal(Signed(Body(kBliGateway, 0, entries), pki.bli));
  };
  auto [status, message] =
      refusal({Bytes(MakeEntry(kBliGateway, 1)), Bytes(MakeEntry(kMoiGateway, 2))});
  EXPECT_EQ(status, 400u);
  EXPECT_EQ(message,
            "entries[1] (seq 2) names gateway TW/GOV/MOI/gw1, not the submitting gateway "
            "TW/GOV/BLI/gw1");
  std::tie(status, message) =
      refusal({Bytes(MakeEntry(kBliGateway, 2)), Bytes(MakeEntry(kBliGateway, 2))});
  EXPECT_EQ(status, 400u);
  EXPECT_NE(message.find("entries[1] has seq 2, not above the seq 2 of entries[0]"),
            std::string::npos)
      << message;
  std::tie(status, message) =
      refusal({Bytes(MakeEntry(kBliGateway, 5)), Bytes(MakeEntry(kBliGateway, 4))});
  EXPECT_EQ(status, 400u);
  EXPECT_NE(message.find("strictly increase"), std::string::npos) << message;
  EXPECT_EQ(service_->size(), 0u);
}

TEST_F(LedgerServiceTest, AKnownSizeBeyondTheLogIsAConflict) {
  const Pki& pki = TestPki();
  Add(Body(kBliGateway, 0, Entries(kBliGateway, 1, 2)), pki.bli);
  auto [status, message] =
      Refusal(Signed(Body(kBliGateway, 3, Entries(kBliGateway, 3, 3)), pki.bli));
  EXPECT_EQ(status, 409u);
  EXPECT_NE(message.find("known_size 3 is larger than the ledger (2 entries)"), std::string::npos)
      << message;
  // Equal to the size: an empty consistency proof.
  json answer = Add(Body(kBliGateway, 2, Entries(kBliGateway, 3, 3)), pki.bli);
  EXPECT_TRUE(answer.contains("consistency"));
  auto all = Entries(kBliGateway, 1, 3);
  CheckPromise(answer, all, 2, RootOf(all, 2));
  EXPECT_EQ(Add(Body(kBliGateway, 3, Entries(kBliGateway, 3, 3)), pki.bli)["consistency"],
            json::array());
}

TEST_F(LedgerServiceTest, MalformedRequestsAreRefusedNamingTheProblem) {
  const Pki& pki = TestPki();
  const std::string good_entry = Bytes(MakeEntry(kBliGateway, 1));
  struct Case {
    std::string name;
    std::string body;
    std::string expected;
  };
  std::string not_canonical = good_entry;
  not_canonical.insert(not_canonical.find("\"seq\"") + 6, " ");
  const std::vector<Case> cases = {
      {"not JSON", "{\"gateway\":", "add-entries body: malformed JSON"},
      {"an array", "[]", "expected a JSON object"},
      {"no gateway", R"({"known_size":0,"entries":[]})", "gateway: is required"},
      {"a bad gateway", Body("TW/GOV/BLI", 0, {good_entry}), "is not a gateway id"},
      {"unknown member", R"({"gateway":"TW/GOV/BLI/gw1","known_size":0,"entries":["eA=="],"x":1})",
       "unknown member \"x\""},
      {"negative known size", R"({"gateway":"TW/GOV/BLI/gw1","known_size":-1,"entries":["eA=="]})",
       "known_size: -1 is out of range"},
      {"known size as text", R"({"gateway":"TW/GOV/BLI/gw1","known_size":"0","entries":["eA=="]})",
       "known_size: expected an integer"},
      {"no entries", Body(kBliGateway, 0, {}), "entries has 0 elements; send 1 … 1000"},
      {"too many entries", Body(kBliGateway, 0, std::vector<std::string>(1001, good_entry)),
       "entries has 1001 elements"},
      {"entries not an array", R"({"gateway":"TW/GOV/BLI/gw1","known_size":0,"entries":"x"})",
       "entries: expected an array"},
      {"an entry not a string", R"({"gateway":"TW/GOV/BLI/gw1","known_size":0,"entries":[1]})",
       "entries[0]: expected a string"},
      {"an entry not base64",
       R"({"gateway":"TW/GOV/BLI/gw1","known_size":0,"entries":["not base64!"]})",
       "entries[0] is not base64"},
      {"an entry not canonical", Body(kBliGateway, 0, {good_entry, not_canonical}),
       "entries[1]: ledger entry is not in its canonical form"},
      {"an entry with a bad field",
       Body(kBliGateway, 0, {"troad-ledger/1\n{\"gateway\":\"TW/GOV/BLI/gw1\"}"}),
       "entries[0]: ledger entry has no key \"seq\""},
  };
  for (const Case& c : cases) {
    auto [status, message] = Refusal(Signed(c.body, pki.bli));
    EXPECT_EQ(status, 400u) << c.name << ": " << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
  }

  const std::string body = Body(kBliGateway, 0, {good_entry});
  http::Request req = Signed(body, pki.bli);
  req.erase(ledger::kLedgerCertificateHeader);
  EXPECT_EQ(Refusal(req).first, 400u);
  req = Signed(body, pki.bli);
  std::string upper = pki.bli.fingerprint();
  for (char& ch : upper) ch = static_cast<char>(std::toupper(ch));
  req.set(ledger::kLedgerCertificateHeader, upper);
  auto [status, message] = Refusal(req);
  EXPECT_EQ(status, 400u);
  EXPECT_NE(message.find("X-Troad-Certificate must be the lower-case hex"), std::string::npos);
  req = Signed(body, pki.bli);
  req.erase(ledger::kLedgerSignatureHeader);
  std::tie(status, message) = Refusal(req);
  EXPECT_EQ(status, 400u);
  EXPECT_EQ(message, "X-Troad-Signature is missing");
  req = Signed(body, pki.bli);
  req.set(ledger::kLedgerSignatureHeader, "!!");
  std::tie(status, message) = Refusal(req);
  EXPECT_EQ(status, 400u);
  EXPECT_NE(message.find("X-Troad-Signature is not base64"), std::string::npos) << message;

  req = Signed(body, pki.bli);
  req.set(bhttp::field::content_type, "text/plain");
  EXPECT_EQ(Refusal(req).first, 415u);
  req.set(bhttp::field::content_type, "application/json; charset=utf-8");
  EXPECT_EQ(service_->Handle(req).result_int(), 200u);
  req = Signed("", pki.bli);
  EXPECT_EQ(Refusal(req).first, 400u);
  req = Signed(std::string(ledger::kMaxLedgerAddBodyBytes + 1, ' '), pki.bli);
  EXPECT_EQ(Refusal(req).first, 413u);
  req = Signed(body, pki.bli);
  req.target("/ledger/v1/add-entries?x=1");
  EXPECT_EQ(Refusal(req).first, 400u);
  req = Get("/ledger/v1/add-entries");
  http::Response res = service_->Handle(req);
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_EQ(res[bhttp::field::allow], "POST");

  // Before the first publication nobody can be authenticated.
  conf_ = nullptr;
  std::tie(status, message) = Refusal(Signed(body, pki.bli));
  EXPECT_EQ(status, 503u);
  EXPECT_NE(message.find("no global configuration"), std::string::npos);
  EXPECT_EQ(service_->size(), 1u);
}

TEST_F(LedgerServiceTest, TheCheckpointIsSignedOncePerSize) {
  http::Response res = service_->Handle(Get("/ledger/v1/checkpoint"));
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain; charset=utf-8");
  auto empty = ledger::VerifyCheckpoint(res.body(), service_->public_key());
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_EQ(empty->size, 0u);
  EXPECT_EQ(empty->root, ledger::EmptyRoot());
  EXPECT_EQ(empty->timestamp_ms, clock_.NowMillis());

  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(service_->Handle(Get("/ledger/v1/checkpoint")).body(), res.body());

  Add(Body(kBliGateway, 0, Entries(kBliGateway, 1, 2)), TestPki().bli);
  http::Response after = service_->Handle(Get("/ledger/v1/checkpoint"));
  auto grown = ledger::VerifyCheckpoint(after.body(), service_->public_key());
  ASSERT_TRUE(grown) << grown.error().ToString();
  EXPECT_EQ(grown->size, 2u);
  EXPECT_EQ(grown->timestamp_ms, clock_.NowMillis());
  EXPECT_EQ(service_->Handle(Get("/ledger/v1/checkpoint?size=1")).result_int(), 400u);
}

TEST_F(LedgerServiceTest, ReadRoutesServeProofsAndEntries) {
  const Pki& pki = TestPki();
  // Both sides of exchange 100 (BLI's seq 1, MOI's seq 4), and others.
  std::vector<std::string> all = {Bytes(MakeEntry(kBliGateway, 1, RequestId(100)))};
  for (int64_t s = 2; s <= 6; ++s) all.push_back(Bytes(MakeEntry(kBliGateway, s)));
  Add(Body(kBliGateway, 0, all), pki.bli);
  std::vector<std::string> moi = Entries(kMoiGateway, 1, 3);
  moi.push_back(Bytes(MakeEntry(kMoiGateway, 4, RequestId(100))));
  Add(Body(kMoiGateway, 6, moi), pki.moi);
  all.insert(all.end(), moi.begin(), moi.end());
  ASSERT_EQ(service_->size(), 10u);

  // proof
  json proof = JsonOf(service_->Handle(Get("/ledger/v1/proof?index=3&size=7")));
  EXPECT_EQ(proof["index"], 3);
  EXPECT_EQ(proof["size"], 7);
  EXPECT_TRUE(ledger::VerifyInclusion(3, 7, ledger::LeafHash(all[3]), HashesOf(proof["proof"]),
                                      RootOf(all, 7)));
  proof = JsonOf(service_->Handle(Get("/ledger/v1/proof?index=9")));
  EXPECT_EQ(proof["size"], 10);
  EXPECT_TRUE(ledger::VerifyInclusion(9, 10, ledger::LeafHash(all[9]), HashesOf(proof["proof"]),
                                      RootOf(all, 10)));

  // proof-by-hash: the hash's '+' and '/' percent-encoded.
  auto by_hash = [&](size_t i, std::string_view extra = "") {
    std::string encoded;
    for (char ch : Base64Encode(std::span<const uint8_t>(ledger::LeafHash(all[i])))) {
      if (ch == '+') {
        encoded += "%2B";
      } else if (ch == '/') {
        encoded += "%2F";
      } else if (ch == '=') {
        encoded += "%3D";
      } else {
        encoded += ch;
      }
    }
    return Get("/ledger/v1/proof-by-hash?hash=" + encoded + std::string(extra));
  };
  proof = JsonOf(service_->Handle(by_hash(8)));
  EXPECT_EQ(proof["index"], 8);
  EXPECT_EQ(proof["size"], 10);
  EXPECT_TRUE(ledger::VerifyInclusion(8, 10, ledger::LeafHash(all[8]), HashesOf(proof["proof"]),
                                      RootOf(all, 10)));
  proof = JsonOf(service_->Handle(by_hash(2, "&size=3")));
  EXPECT_EQ(proof["size"], 3);
  EXPECT_TRUE(ledger::VerifyInclusion(2, 3, ledger::LeafHash(all[2]), HashesOf(proof["proof"]),
                                      RootOf(all, 3)));
  auto [status, message] = Refusal(by_hash(8, "&size=5"));
  EXPECT_EQ(status, 404u);
  EXPECT_NE(message.find("at index 8, not within the tree of size 5"), std::string::npos);
  const std::string absent = Base64Encode(std::span<const uint8_t>(ledger::LeafHash("absent")));
  std::tie(status, message) = Refusal(Get("/ledger/v1/proof-by-hash?hash=" + absent));
  EXPECT_EQ(status, 404u) << message;

  // consistency
  json consistency = JsonOf(service_->Handle(Get("/ledger/v1/consistency?first=3&second=9")));
  EXPECT_EQ(consistency["first"], 3);
  EXPECT_EQ(consistency["second"], 9);
  EXPECT_TRUE(ledger::VerifyConsistency(3, 9, HashesOf(consistency["proof"]), RootOf(all, 3),
                                        RootOf(all, 9)));
  consistency = JsonOf(service_->Handle(Get("/ledger/v1/consistency?first=0")));
  EXPECT_EQ(consistency, json::parse(R"({"first":0,"second":10,"proof":[]})"));
  consistency = JsonOf(service_->Handle(Get("/ledger/v1/consistency?first=7")));
  EXPECT_TRUE(ledger::VerifyConsistency(7, 10, HashesOf(consistency["proof"]), RootOf(all, 7),
                                        RootOf(all, 10)));

  // entries
  json entries = JsonOf(service_->Handle(Get("/ledger/v1/entries?start=4&end=7")));
  ASSERT_EQ(entries["entries"].size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(entries["entries"][k]["index"], 4 + k);
    EXPECT_EQ(*Base64Decode(entries["entries"][k]["entry"].get<std::string>()), all[4 + k]);
  }
  EXPECT_EQ(JsonOf(service_->Handle(Get("/ledger/v1/entries?start=10&end=10"))),
            json::parse(R"({"entries":[]})"));

  // exchange: both sides, in index order.
  json exchange = JsonOf(service_->Handle(Get("/ledger/v1/exchange?request_id=" + RequestId(100))));
  ASSERT_EQ(exchange["entries"].size(), 2u);
  EXPECT_EQ(exchange["entries"][0]["index"], 0);
  EXPECT_EQ(*Base64Decode(exchange["entries"][0]["entry"].get<std::string>()), all[0]);
  EXPECT_EQ(exchange["entries"][1]["index"], 9);
  EXPECT_EQ(*Base64Decode(exchange["entries"][1]["entry"].get<std::string>()), all[9]);
  EXPECT_EQ(JsonOf(service_->Handle(Get("/ledger/v1/exchange?request_id=nobody"))),
            json::parse(R"({"entries":[]})"));
}

TEST_F(LedgerServiceTest, ReadRoutesRefuseBadParameters) {
  Add(Body(kBliGateway, 0, Entries(kBliGateway, 1, 5)), TestPki().bli);
  struct Case {
    std::string target;
    unsigned status;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"/ledger/v1/proof", 400, "index is required"},
      {"/ledger/v1/proof?index=01", 400, "index \"01\" is not a canonical decimal number"},
      {"/ledger/v1/proof?index=-1", 400, "not a canonical decimal"},
      {"/ledger/v1/proof?index=1.0", 400, "not a canonical decimal"},
      {"/ledger/v1/proof?index=", 400, "not a canonical decimal"},
      {"/ledger/v1/proof?index=%31", 200, ""},  // percent-encoded digits are digits
      {"/ledger/v1/proof?index=99999999999999999999", 400, "larger than 2^63 - 1"},
      {"/ledger/v1/proof?index=9223372036854775808", 400, "larger than 2^63 - 1"},
      {"/ledger/v1/proof?index=5", 400, "index 5 is not below size 5"},
      {"/ledger/v1/proof?index=1&size=6", 400, "size 6 is beyond the ledger's size 5"},
      {"/ledger/v1/proof?index=1&size=1", 400, "index 1 is not below size 1"},
      {"/ledger/v1/proof?index=1&index=2", 400, "parameter \"index\" is given twice"},
      {"/ledger/v1/proof?index=1&limit=2", 400,
       "unknown parameter \"limit\" (this request takes index, size)"},
      {"/ledger/v1/proof?index=%zz", 400, "malformed percent-encoding"},
      {"/ledger/v1/proof-by-hash", 400, "hash is required"},
      {"/ledger/v1/proof-by-hash?hash=abc", 400, "is not the base64"},
      {"/ledger/v1/proof-by-hash?hash=" + Base64Encode(std::string(31, 'x')), 400,
       "is not the base64"},
      {"/ledger/v1/consistency", 400, "first is required"},
      {"/ledger/v1/consistency?first=4&second=3", 400, "first 4 is above second 3"},
      {"/ledger/v1/consistency?first=4&second=6", 400, "second 6 is beyond the ledger's size 5"},
      {"/ledger/v1/consistency?first=6", 400, "first 6 is above second 5"},
      {"/ledger/v1/entries?start=0", 400, "end is required"},
      {"/ledger/v1/entries?end=1", 400, "start is required"},
      {"/ledger/v1/entries?start=3&end=2", 400, "not a range within the ledger's 5 entries"},
      {"/ledger/v1/entries?start=0&end=6", 400, "not a range within the ledger's 5 entries"},
      {"/ledger/v1/exchange", 400, "request_id is required"},
      {"/ledger/v1/exchange?request_id=", 400, "request_id is required"},
      {"/ledger/v1/exchange?request_id=" + std::string(256, 'x'), 400, "longer than 255"},
      {"/ledger/v1/exchange?request_id=a%0Ab", 400, "control character"},
      {"/ledger/v1/checkpoint?x", 400, "unknown parameter \"x\" (this request takes none)"},
      {"/ledger/v1/nothing", 404, "no ledger route /ledger/v1/nothing"},
      {"/ledger/v1/proof/", 404, "no ledger route"},
      {"/ledger/v1", 404, "no ledger route"},
      {"/ledger/v2/checkpoint", 404, "no ledger route"},
  };
  for (const Case& c : cases) {
    http::Response res = service_->Handle(Get(c.target));
    EXPECT_EQ(res.result_int(), c.status) << c.target << ": " << res.body();
    if (c.status == 200) continue;
    auto [status, message] = Refusal(Get(c.target));
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.target << ": " << message;
  }
  http::Request post = Get("/ledger/v1/proof?index=1");
  post.method(bhttp::verb::post);
  http::Response res = service_->Handle(post);
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_EQ(res[bhttp::field::allow], "GET");
}

TEST_F(LedgerServiceTest, EntriesAreReadAtMostAThousandAtATime) {
  const Pki& pki = TestPki();
  Add(Body(kBliGateway, 0, Entries(kBliGateway, 1, 1000)), pki.bli);
  Add(Body(kBliGateway, 1000, Entries(kBliGateway, 1001, 1001)), pki.bli);
  json entries = JsonOf(service_->Handle(Get("/ledger/v1/entries?start=0&end=1001")));
  ASSERT_EQ(entries["entries"].size(), 1000u);
  EXPECT_EQ(entries["entries"].back()["index"], 999);
  entries = JsonOf(service_->Handle(Get("/ledger/v1/entries?start=1000&end=1001")));
  ASSERT_EQ(entries["entries"].size(), 1u);
  EXPECT_EQ(entries["entries"][0]["index"], 1000);
}

TEST_F(LedgerServiceTest, AReopenedLedgerIsTheSameLedger) {
  const Pki& pki = TestPki();
  const std::vector<std::string> batch = Entries(kBliGateway, 1, 20);
  json first = Add(Body(kBliGateway, 0, batch), pki.bli);
  const ledger::Checkpoint head = CheckPromise(first, batch, 0, ledger::EmptyRoot());

  service_.reset();
  service_ = Open();
  ASSERT_TRUE(service_);
  EXPECT_EQ(service_->size(), 20u);
  auto reopened = ledger::VerifyCheckpoint(service_->Handle(Get("/ledger/v1/checkpoint")).body(),
                                           service_->public_key());
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->size, head.size);
  EXPECT_EQ(reopened->root, head.root);

  // Dedupe still holds: a resend keeps its indices, a changed entry is refused.
  json again = Add(Body(kBliGateway, 20, std::vector<std::string>(batch.begin() + 18, batch.end())),
                   pki.bli);
  EXPECT_EQ(again["entries"], json::parse(R"([{"seq":19,"index":18},{"seq":20,"index":19}])"));
  LedgerEntry changed = MakeEntry(kBliGateway, 7);
  changed.fault = "Server.ServerProxy.AccessDenied";
  EXPECT_EQ(Refusal(Signed(Body(kBliGateway, 20, {Bytes(changed)}), pki.bli)).first, 409u);
  // And the request index.
  json exchange = JsonOf(service_->Handle(Get("/ledger/v1/exchange?request_id=" + RequestId(7))));
  ASSERT_EQ(exchange["entries"].size(), 1u);
  EXPECT_EQ(exchange["entries"][0]["index"], 6);
  EXPECT_EQ(service_->size(), 20u);
}

TEST_F(LedgerServiceTest, CreateRefusesAMissingOrUnfitKeyAndABadOrigin) {
  auto source = [this] { return conf_; };
  LedgerOptions options = options_;
  options.key_file = "";
  auto service = LedgerService::Create(options, dir_.File("other.db"), clock_, source);
  ASSERT_FALSE(service);
  EXPECT_NE(service.error().message().find("[ledger] key is not set"), std::string::npos);

  options.key_file = dir_.File("missing.key");
  service = LedgerService::Create(options, dir_.File("other.db"), clock_, source);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(crypto::PrivateKey::GenerateRsa(2048)->SavePemFile(dir_.File("rsa.key")));
  options.key_file = dir_.File("rsa.key");
  service = LedgerService::Create(options, dir_.File("other.db"), clock_, source);
  ASSERT_FALSE(service);
  EXPECT_NE(service.error().message().find("not an ECDSA P-256 key"), std::string::npos);

  options = options_;
  options.origin = "has space";
  service = LedgerService::Create(options, dir_.File("other.db"), clock_, source);
  ASSERT_FALSE(service);
  EXPECT_NE(service.error().message().find("[ledger] origin"), std::string::npos);
}

}  // namespace
}  // namespace troad::central
