// Tests for WebAuthn registration and assertion verification. The test plays the
// browser and a software authenticator: it makes keys, COSE keys, authenticator data,
// attestation objects (with libcbor) and client data as real ones would, then breaks
// one thing at a time. One case cross-checks a signature with the openssl command.
#include "identity/webauthn.h"

#include <cbor.h>
#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/key.h"
#include "crypto/test_util.h"
#include "crypto/x509.h"

namespace troad::identity::webauthn {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

constexpr uint8_t kUp = 0x01, kUv = 0x04, kBe = 0x08, kBs = 0x10, kAt = 0x40, kEd = 0x80;
constexpr std::string_view kRpId = "idp.example.tw";
constexpr std::string_view kOrigin = "https://idp.example.tw";
constexpr std::string_view kAaguid =
    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";

template <typename T>
std::string Message(const Result<T>& result) {
  return result ? "" : result.error().message();
}
template <typename T>
ErrorCode Code(const Result<T>& result) {
  return result ? ErrorCode::kInternal : result.error().code();
}

// ---- CBOR building, as an authenticator encodes it ----

struct CborDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using Item = std::unique_ptr<cbor_item_t, CborDeleter>;

Item Text(std::string_view text) { return Item(cbor_build_stringn(text.data(), text.size())); }
Item Bytes(std::string_view bytes) {
  return Item(cbor_build_bytestring(reinterpret_cast<cbor_data>(bytes.data()), bytes.size()));
}
// The shortest encoding, as CTAP2 canonical CBOR has it.
Item Int(int64_t value) {
  const uint64_t raw =
      value >= 0 ? static_cast<uint64_t>(value) : static_cast<uint64_t>(-1 - value);
  if (raw < 0x100) {
    return Item(value >= 0 ? cbor_build_uint8(static_cast<uint8_t>(raw))
                           : cbor_build_negint8(static_cast<uint8_t>(raw)));
  }
  if (raw < 0x10000) {
    return Item(value >= 0 ? cbor_build_uint16(static_cast<uint16_t>(raw))
                           : cbor_build_negint16(static_cast<uint16_t>(raw)));
  }
  return Item(value >= 0 ? cbor_build_uint32(static_cast<uint32_t>(raw))
                         : cbor_build_negint32(static_cast<uint32_t>(raw)));
}
Item Map(std::vector<std::pair<Item, Item>> entries) {
  Item map(cbor_new_definite_map(entries.size()));
  for (auto& [key, value] : entries) {
    // cbor_map_add takes its own references; cbor_move hands ours over.
    EXPECT_TRUE(cbor_map_add(map.get(), cbor_pair{.key = cbor_move(key.release()),
                                                  .value = cbor_move(value.release())}));
  }
  return map;
}
Item Array(std::vector<Item> elements) {
  Item array(cbor_new_definite_array(elements.size()));
  for (auto& element : elements)
    EXPECT_TRUE(cbor_array_push(array.get(), cbor_move(element.release())));
  return array;
}
std::string Serialize(const Item& item) {
  unsigned char* buffer = nullptr;
  size_t buffer_size = 0;
  const size_t length = cbor_serialize_alloc(item.get(), &buffer, &buffer_size);
  std::string out(reinterpret_cast<const char*>(buffer), length);
  free(buffer);
  return out;
}

// ---- The software authenticator ----

// The COSE_Key of `key` (RFC 9053 §7.1.1, RFC 8230 §4), from its JWK members.
std::string CoseKey(const crypto::PublicKey& key) {
  const nlohmann::json jwk = crypto::PublicJwk(key);
  auto member = [&](const char* name) {
    return Base64UrlDecode(jwk[name].get<std::string>()).value();
  };
  if (key.type() == crypto::KeyType::kRsa) {
    return Serialize(Map([&] {
      std::vector<std::pair<Item, Item>> m;
      m.emplace_back(Int(1), Int(3));
      m.emplace_back(Int(3), Int(-257));
      m.emplace_back(Int(-1), Bytes(member("n")));
      m.emplace_back(Int(-2), Bytes(member("e")));
      return m;
    }()));
  }
  std::vector<std::pair<Item, Item>> m;
  m.emplace_back(Int(1), Int(2));
  m.emplace_back(Int(3), Int(-7));
  m.emplace_back(Int(-1), Int(1));
  m.emplace_back(Int(-2), Bytes(member("x")));
  m.emplace_back(Int(-3), Bytes(member("y")));
  return Serialize(Map(std::move(m)));
}

// Attested credential data (§6.5.1): AAGUID ‖ L (2 bytes) ‖ credential id ‖ COSE_Key.
std::string AttestedData(std::string_view credential_id, std::string_view cose_key) {
  std::string out(kAaguid);
  out += static_cast<char>(credential_id.size() >> 8);
  out += static_cast<char>(credential_id.size() & 0xff);
  out += credential_id;
  out += cose_key;
  return out;
}

// Authenticator data (§6.1) for `rp_id`.
std::string AuthData(std::string_view rp_id, uint8_t flags, uint32_t count,
                     std::string_view attested = {}, std::string_view extensions = {}) {
  std::string out(crypto::DigestView(crypto::Sha256(rp_id)));
  out += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((count >> shift) & 0xff);
  out += attested;
  out += extensions;
  return out;
}

std::string ClientData(std::string_view type, std::string_view challenge,
                       std::string_view origin = kOrigin, const char* cross_origin = nullptr) {
  nlohmann::ordered_json j;
  j["type"] = type;
  j["challenge"] = Base64UrlEncode(challenge);
  j["origin"] = origin;
  if (cross_origin != nullptr) j["crossOrigin"] = nlohmann::json::parse(cross_origin);
  return j.dump();
}

std::string Signed(std::string_view auth_data, std::string_view client_data) {
  return std::string(auth_data) + std::string(crypto::DigestView(crypto::Sha256(client_data)));
}

std::string AttestationObject(std::string_view fmt, Item statement, std::string_view auth_data) {
  std::vector<std::pair<Item, Item>> m;
  m.emplace_back(Text("fmt"), Text(fmt));
  m.emplace_back(Text("attStmt"), std::move(statement));
  m.emplace_back(Text("authData"), Bytes(auth_data));
  return Serialize(Map(std::move(m)));
}

RegistrationResponse Registration(std::string_view client_data, std::string_view object) {
  return {Base64UrlEncode(client_data), Base64UrlEncode(object)};
}

Item PackedStatement(int64_t alg, std::string_view sig, std::vector<std::string> x5c = {}) {
  std::vector<std::pair<Item, Item>> m;
  m.emplace_back(Text("alg"), Int(alg));
  m.emplace_back(Text("sig"), Bytes(sig));
  if (!x5c.empty()) {
    std::vector<Item> certs;
    for (const auto& der : x5c) certs.push_back(Bytes(der));
    m.emplace_back(Text("x5c"), Array(std::move(certs)));
  }
  return Map(std::move(m));
}

// An attestation certificate as §8.2.1 describes it, issued by `ca` (or self-signed when
// `ca` is null), optionally with the id-fido-gen-ce-aaguid extension.
crypto::Certificate AttestationCertificate(const crypto::PrivateKey& key,
                                           const crypto::Certificate* ca,
                                           const crypto::PrivateKey& signer, bool is_ca,
                                           std::string_view aaguid) {
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  EXPECT_EQ(X509_set_version(x.get(), X509_VERSION_3), 1);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  X509_NAME* name = X509_get_subject_name(x.get());
  auto add = [&](const char* field, const char* value) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value), -1, -1, 0);
  };
  add("C", "TW");
  add("O", "Test Authenticators");
  add("OU", "Authenticator Attestation");
  add("CN", "Test Key 1");
  X509_set_issuer_name(x.get(), ca != nullptr ? X509_get_subject_name(ca->native()) : name);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600);
  X509_set_pubkey(x.get(), key.native());
  X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints,
                                           is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  X509_add_ext(x.get(), bc, -1);
  X509_EXTENSION_free(bc);
  if (!aaguid.empty()) {
    std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> inner(
        ASN1_OCTET_STRING_new(), ASN1_OCTET_STRING_free);
    ASN1_OCTET_STRING_set(inner.get(), reinterpret_cast<const unsigned char*>(aaguid.data()),
                          static_cast<int>(aaguid.size()));
    unsigned char* der = nullptr;
    const int der_length = i2d_ASN1_OCTET_STRING(inner.get(), &der);
    std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> value(
        ASN1_OCTET_STRING_new(), ASN1_OCTET_STRING_free);
    ASN1_OCTET_STRING_set(value.get(), der, der_length);
    OPENSSL_free(der);
    std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> oid(
        OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1), ASN1_OBJECT_free);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get());
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(x.get(), signer.native(), EVP_sha256()), 0);
  return crypto::Certificate::FromNative(x.get());
}

class WebAuthnTest : public ::testing::Test {
 protected:
  WebAuthnTest()
      : rp_{std::string(kRpId), {std::string(kOrigin)}},
        challenge_(NewChallenge()),
        key_(crypto::PrivateKey::GenerateEcP256().value()),
        credential_id_("credential-\x01\x02\x03-id"sv) {}

  std::string Attested() const { return AttestedData(credential_id_, CoseKey(key_.Public())); }
  std::string CreateClientData() const { return ClientData("webauthn.create", challenge_); }

  // A registration with attestation "none", user present (and `flags`).
  RegistrationResponse NoneRegistration(uint8_t flags = kUp | kAt, std::string_view rp_id = kRpId,
                                        std::string client_data = {}) const {
    if (client_data.empty()) client_data = CreateClientData();
    return Registration(client_data,
                        AttestationObject("none", Map({}), AuthData(rp_id, flags, 0, Attested())));
  }

  RegistrationResponse PackedSelfRegistration(const crypto::PrivateKey& key) const {
    const std::string client_data = CreateClientData();
    const std::string auth =
        AuthData(kRpId, kUp | kAt, 1, AttestedData(credential_id_, CoseKey(key.Public())));
    const int64_t alg = key.type() == crypto::KeyType::kRsa ? -257 : -7;
    const std::string sig = key.Sign(Signed(auth, client_data)).value();
    return Registration(client_data, AttestationObject("packed", PackedStatement(alg, sig), auth));
  }

  // A sign-in by key_ with the given counter and flags, over `client_data`.
  AssertionResponse Assert(uint32_t count, uint8_t flags = kUp, std::string client_data = {},
                           const crypto::PrivateKey* key = nullptr) const {
    if (client_data.empty()) client_data = ClientData("webauthn.get", challenge_);
    const std::string auth = AuthData(kRpId, flags, count);
    const std::string sig = (key != nullptr ? *key : key_).Sign(Signed(auth, client_data)).value();
    return {Base64UrlEncode(client_data), Base64UrlEncode(auth), Base64UrlEncode(sig)};
  }
  StoredCredential Stored(uint32_t count) const { return {key_.Public().ToDer(), "ES256", count}; }

  RelyingParty rp_;
  std::string challenge_;
  crypto::PrivateKey key_;
  std::string credential_id_;
};

// ---- Registration ----

TEST_F(WebAuthnTest, NoneAttestationRegistrationIsAccepted) {
  auto credential =
      VerifyRegistration(rp_, NoneRegistration(kUp | kUv | kBe | kAt), challenge_, true);
  ASSERT_TRUE(credential) << Message(credential);
  EXPECT_EQ(credential->id, credential_id_);
  EXPECT_EQ(credential->public_key_der, key_.Public().ToDer());
  EXPECT_EQ(credential->algorithm, "ES256");
  EXPECT_EQ(credential->sign_count, 0u);
  EXPECT_EQ(credential->aaguid, kAaguid);
  EXPECT_EQ(credential->attestation_format, "none");
  EXPECT_EQ(credential->attestation_type, AttestationType::kNone);
  EXPECT_TRUE(credential->attestation_certificates.empty());
  EXPECT_TRUE(credential->user_verified);
  EXPECT_TRUE(credential->backup_eligible);
  EXPECT_FALSE(credential->backed_up);
}

TEST_F(WebAuthnTest, LocalhostOriginIsAccepted) {
  RelyingParty local{"localhost", {"http://localhost:4600"}};
  const std::string client_data =
      ClientData("webauthn.create", challenge_, "http://localhost:4600", "false");
  auto credential = VerifyRegistration(local, NoneRegistration(kUp | kAt, "localhost", client_data),
                                       challenge_, false);
  ASSERT_TRUE(credential) << Message(credential);
}

TEST_F(WebAuthnTest, PackedSelfAttestationIsAccepted) {
  auto credential = VerifyRegistration(rp_, PackedSelfRegistration(key_), challenge_, false);
  ASSERT_TRUE(credential) << Message(credential);
  EXPECT_EQ(credential->attestation_format, "packed");
  EXPECT_EQ(credential->attestation_type, AttestationType::kSelf);
  EXPECT_EQ(credential->sign_count, 1u);
  EXPECT_FALSE(credential->user_verified);
}

TEST_F(WebAuthnTest, RsaRs256CredentialIsAcceptedAndSignsIn) {
  auto rsa = crypto::PrivateKey::GenerateRsa(2048).value();
  auto credential = VerifyRegistration(rp_, PackedSelfRegistration(rsa), challenge_, false);
  ASSERT_TRUE(credential) << Message(credential);
  EXPECT_EQ(credential->algorithm, "RS256");
  EXPECT_EQ(credential->public_key_der, rsa.Public().ToDer());

  auto assertion = VerifyAssertion(rp_, Assert(2, kUp, {}, &rsa), challenge_, false,
                                   {credential->public_key_der, credential->algorithm, 1});
  ASSERT_TRUE(assertion) << Message(assertion);
  EXPECT_EQ(assertion->sign_count, 2u);
}

class PackedX5cTest : public WebAuthnTest {
 protected:
  PackedX5cTest()
      : attestation_key_(crypto::PrivateKey::GenerateEcP256().value()),
        ca_key_(crypto::PrivateKey::GenerateEcP256().value()),
        ca_(MakeCa()) {}

  crypto::Certificate MakeCa() const {
    crypto::CertificateRequest req;
    req.common_name = "Test Attestation Root";
    return crypto::CreateSelfSignedCa(ca_key_, req, SystemClock::Get()).value();
  }

  RegistrationResponse Make(const crypto::Certificate& leaf,
                            const crypto::PrivateKey& signer) const {
    const std::string client_data = CreateClientData();
    const std::string auth = AuthData(kRpId, kUp | kUv | kAt, 0, Attested());
    const std::string sig = signer.Sign(Signed(auth, client_data)).value();
    return Registration(
        client_data,
        AttestationObject("packed", PackedStatement(-7, sig, {leaf.ToDer(), ca_.ToDer()}), auth));
  }

  crypto::PrivateKey attestation_key_;
  crypto::PrivateKey ca_key_;
  crypto::Certificate ca_;
};

TEST_F(PackedX5cTest, BasicAttestationIsAcceptedAndTheChainReturned) {
  auto leaf = AttestationCertificate(attestation_key_, &ca_, ca_key_, false, kAaguid);
  auto credential = VerifyRegistration(rp_, Make(leaf, attestation_key_), challenge_, true);
  ASSERT_TRUE(credential) << Message(credential);
  EXPECT_EQ(credential->attestation_type, AttestationType::kBasic);
  EXPECT_EQ(AttestationTypeName(credential->attestation_type), "basic");
  ASSERT_EQ(credential->attestation_certificates.size(), 2u);
  EXPECT_EQ(credential->attestation_certificates[0], leaf.ToDer());
  EXPECT_EQ(credential->attestation_certificates[1], ca_.ToDer());
  // The chain is for the caller's policy: it does verify to the root here.
  auto store = crypto::TrustStore::Create({ca_}).value();
  EXPECT_TRUE(store.Verify(leaf, {}, std::chrono::system_clock::now()));
}

TEST_F(PackedX5cTest, CertificateWithoutAaguidExtensionIsAccepted) {
  auto leaf = AttestationCertificate(attestation_key_, &ca_, ca_key_, false, {});
  auto credential = VerifyRegistration(rp_, Make(leaf, attestation_key_), challenge_, true);
  ASSERT_TRUE(credential) << Message(credential);
}

TEST_F(PackedX5cTest, SignatureByAnotherKeyThanTheCertificatesIsRefused) {
  auto leaf = AttestationCertificate(attestation_key_, &ca_, ca_key_, false, kAaguid);
  auto credential = VerifyRegistration(rp_, Make(leaf, key_), challenge_, true);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("packed attestation"), std::string::npos)
      << Message(credential);
}

TEST_F(PackedX5cTest, CaCertificateAsAttestationCertificateIsRefused) {
  auto leaf = AttestationCertificate(attestation_key_, &ca_, ca_key_, true, kAaguid);
  auto credential = VerifyRegistration(rp_, Make(leaf, attestation_key_), challenge_, true);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("is a CA certificate"), std::string::npos)
      << Message(credential);
}

TEST_F(PackedX5cTest, CertificateForAnotherAaguidIsRefused) {
  auto leaf =
      AttestationCertificate(attestation_key_, &ca_, ca_key_, false,
                             "\xff\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"sv);
  auto credential = VerifyRegistration(rp_, Make(leaf, attestation_key_), challenge_, true);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("AAGUID"), std::string::npos) << Message(credential);
}

TEST_F(WebAuthnTest, WrongChallengeIsRefused) {
  const std::string client_data = ClientData("webauthn.create", NewChallenge());
  auto credential =
      VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, client_data), challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("challenge"), std::string::npos);
}

TEST_F(WebAuthnTest, WrongOriginIsRefused) {
  for (const char* origin : {"https://evil.example", "https://idp.example.tw:443",
                             "https://idp.example.tw/", "http://idp.example.tw"}) {
    SCOPED_TRACE(origin);
    const std::string client_data = ClientData("webauthn.create", challenge_, origin);
    auto credential =
        VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, client_data), challenge_, false);
    ASSERT_FALSE(credential);
    EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_NE(Message(credential).find("origin"), std::string::npos);
  }
}

TEST_F(WebAuthnTest, CrossOriginIsRefused) {
  const std::string cross = ClientData("webauthn.create", challenge_, kOrigin, "true");
  auto credential =
      VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, cross), challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("crossOrigin"), std::string::npos);

  const std::string not_bool = ClientData("webauthn.create", challenge_, kOrigin, "\"yes\"");
  EXPECT_EQ(Code(VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, not_bool), challenge_,
                                    false)),
            ErrorCode::kInvalidArgument);
  const std::string same = ClientData("webauthn.create", challenge_, kOrigin, "false");
  EXPECT_TRUE(VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, same), challenge_, false));
}

TEST_F(WebAuthnTest, WrongRpIdHashIsRefused) {
  auto credential =
      VerifyRegistration(rp_, NoneRegistration(kUp | kAt, "example.tw"), challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("rpIdHash"), std::string::npos);
}

TEST_F(WebAuthnTest, MissingUserPresenceIsRefused) {
  auto credential = VerifyRegistration(rp_, NoneRegistration(kUv | kAt), challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("(UP)"), std::string::npos);
}

TEST_F(WebAuthnTest, MissingUserVerificationIsRefusedOnlyWhenRequired) {
  auto credential = VerifyRegistration(rp_, NoneRegistration(kUp | kAt), challenge_, true);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("(UV)"), std::string::npos);
  EXPECT_TRUE(VerifyRegistration(rp_, NoneRegistration(kUp | kAt), challenge_, false));
}

TEST_F(WebAuthnTest, MissingAttestedCredentialDataIsRefused) {
  const auto response =
      Registration(CreateClientData(), AttestationObject("none", Map({}), AuthData(kRpId, kUp, 0)));
  auto credential = VerifyRegistration(rp_, response, challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(credential).find("AT flag"), std::string::npos);
}

TEST_F(WebAuthnTest, BackedUpWithoutBackupEligibilityIsRefused) {
  auto credential = VerifyRegistration(rp_, NoneRegistration(kUp | kBs | kAt), challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(VerifyRegistration(rp_, NoneRegistration(kUp | kBe | kBs | kAt), challenge_, false));
}

TEST_F(WebAuthnTest, WrongCeremonyTypeIsRefused) {
  const std::string get = ClientData("webauthn.get", challenge_);
  auto credential =
      VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, get), challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(credential).find("\"webauthn.get\", expected \"webauthn.create\""),
            std::string::npos)
      << Message(credential);

  auto assertion =
      VerifyAssertion(rp_, Assert(1, kUp, CreateClientData()), challenge_, false, Stored(0));
  EXPECT_EQ(Code(assertion), ErrorCode::kUnauthenticated);
}

TEST_F(WebAuthnTest, UnsupportedFormatIsRefusedByName) {
  const auto response =
      Registration(CreateClientData(),
                   AttestationObject("tpm", Map({}), AuthData(kRpId, kUp | kAt, 0, Attested())));
  auto credential = VerifyRegistration(rp_, response, challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(credential).find("\"tpm\" is not supported"), std::string::npos)
      << Message(credential);
}

TEST_F(WebAuthnTest, NoneWithAStatementIsRefused) {
  std::vector<std::pair<Item, Item>> m;
  m.emplace_back(Text("sig"), Bytes("x"));
  const auto response = Registration(
      CreateClientData(),
      AttestationObject("none", Map(std::move(m)), AuthData(kRpId, kUp | kAt, 0, Attested())));
  EXPECT_EQ(Code(VerifyRegistration(rp_, response, challenge_, false)),
            ErrorCode::kInvalidArgument);
}

TEST_F(WebAuthnTest, BadPackedSignatureIsRefused) {
  const std::string client_data = CreateClientData();
  const std::string auth = AuthData(kRpId, kUp | kAt, 0, Attested());
  // Signed over other client data: a well-formed signature that does not verify.
  const std::string sig = key_.Sign(Signed(auth, client_data + " ")).value();
  auto credential = VerifyRegistration(
      rp_, Registration(client_data, AttestationObject("packed", PackedStatement(-7, sig), auth)),
      challenge_, false);
  ASSERT_FALSE(credential);
  EXPECT_EQ(credential.error().code(), ErrorCode::kUnauthenticated);

  // Self attestation must use the credential key's algorithm.
  const std::string good = key_.Sign(Signed(auth, client_data)).value();
  credential = VerifyRegistration(
      rp_,
      Registration(client_data, AttestationObject("packed", PackedStatement(-257, good), auth)),
      challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kUnauthenticated);

  // Not DER at all.
  credential = VerifyRegistration(
      rp_,
      Registration(client_data, AttestationObject("packed", PackedStatement(-7, "garbage"), auth)),
      challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
}

TEST_F(WebAuthnTest, UnsupportedCoseAlgorithmIsRefusedByName) {
  std::vector<std::pair<Item, Item>> m;
  m.emplace_back(Int(1), Int(1));   // OKP
  m.emplace_back(Int(3), Int(-8));  // EdDSA
  m.emplace_back(Int(-1), Int(6));
  m.emplace_back(Int(-2), Bytes(std::string(32, 'x')));
  const std::string cose = Serialize(Map(std::move(m)));
  const auto response = Registration(
      CreateClientData(),
      AttestationObject("none", Map({}), AuthData(kRpId, kUp | kAt, 0, AttestedData("id", cose))));
  auto credential = VerifyRegistration(rp_, response, challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(credential).find("-8 (EdDSA) is not supported"), std::string::npos)
      << Message(credential);
}

TEST_F(WebAuthnTest, CoseKeyWithPrivatePartOrPointOffTheCurveIsRefused) {
  auto cose_with = [&](std::string_view x, bool with_d) {
    const nlohmann::json jwk = crypto::PublicJwk(key_.Public());
    std::vector<std::pair<Item, Item>> m;
    m.emplace_back(Int(1), Int(2));
    m.emplace_back(Int(3), Int(-7));
    m.emplace_back(Int(-1), Int(1));
    m.emplace_back(Int(-2), Bytes(x));
    m.emplace_back(Int(-3), Bytes(Base64UrlDecode(jwk["y"].get<std::string>()).value()));
    if (with_d) m.emplace_back(Int(-4), Bytes(std::string(32, 'd')));
    return Serialize(Map(std::move(m)));
  };
  const std::string x =
      Base64UrlDecode(crypto::PublicJwk(key_.Public())["x"].get<std::string>()).value();
  for (const std::string& cose : {cose_with(x, true), cose_with(std::string(32, '\x01'), false),
                                  cose_with(x.substr(1), false)}) {
    const auto response =
        Registration(CreateClientData(),
                     AttestationObject("none", Map({}),
                                       AuthData(kRpId, kUp | kAt, 0, AttestedData("id", cose))));
    auto credential = VerifyRegistration(rp_, response, challenge_, false);
    EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument) << Message(credential);
  }
}

TEST_F(WebAuthnTest, TruncatedOrGarbageAttestationObjectIsRefused) {
  const std::string object = Base64UrlDecode(NoneRegistration().attestation_object).value();
  const std::string client_data = CreateClientData();
  // Every prefix: refused as malformed, never accepted, never a crash.
  for (size_t n = 1; n < object.size(); ++n) {
    SCOPED_TRACE(n);
    auto credential =
        VerifyRegistration(rp_, Registration(client_data, object.substr(0, n)), challenge_, false);
    ASSERT_FALSE(credential);
    EXPECT_EQ(credential.error().code(), ErrorCode::kInvalidArgument);
  }
  const std::string garbage[] = {
      "\xff"s,
      "hello, world"s,
      "\x1c"s,  // reserved additional information
      "\xa1\x63"
      "fmt"s,                                   // a key without a value
      "\x9b\x00\x00\x00\x00\x10\x00\x00\x00"s,  // 2^28 elements claimed, none there
      "\xbf\x63"
      "fmt\x64none"s,                      // indefinite map without its break
      std::string(5000, '\x81') + "\x01",  // nested 5000 deep
      "\x83\x01\x02\x03"s,                 // an array, not a map
      "\xbf\xff"s,  // an indefinite-length map (CTAP2 canonical CBOR has none)
  };
  for (const std::string& bytes : garbage) {
    SCOPED_TRACE(HexEncode(bytes.substr(0, 16)));
    auto credential = VerifyRegistration(rp_, Registration(client_data, bytes), challenge_, false);
    ASSERT_FALSE(credential);
    EXPECT_EQ(credential.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_F(WebAuthnTest, TrailingBytesAreRefused) {
  const std::string client_data = CreateClientData();
  const std::string object = Base64UrlDecode(NoneRegistration().attestation_object).value();
  auto credential =
      VerifyRegistration(rp_, Registration(client_data, object + "\x00"s), challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(credential).find("trailing"), std::string::npos) << Message(credential);

  // Inside authData, after the COSE key, with no ED flag.
  const std::string auth = AuthData(kRpId, kUp | kAt, 0, Attested() + "\x00"s);
  credential = VerifyRegistration(
      rp_, Registration(client_data, AttestationObject("none", Map({}), auth)), challenge_, false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(credential).find("trailing"), std::string::npos) << Message(credential);

  // In an assertion's authenticator data.
  AssertionResponse assertion = Assert(1);
  assertion.authenticator_data =
      Base64UrlEncode(Base64UrlDecode(assertion.authenticator_data).value() + "\x00"s);
  EXPECT_EQ(Code(VerifyAssertion(rp_, assertion, challenge_, false, Stored(0))),
            ErrorCode::kInvalidArgument);
}

TEST_F(WebAuthnTest, ExtensionsAreSkippedWhenWellFormedAndRefusedOtherwise) {
  std::vector<std::pair<Item, Item>> m;
  m.emplace_back(Text("credProtect"), Int(2));
  const std::string extensions = Serialize(Map(std::move(m)));
  const std::string client_data = CreateClientData();
  auto with = [&](uint8_t flags, const std::string& ext) {
    return VerifyRegistration(
        rp_,
        Registration(client_data, AttestationObject("none", Map({}),
                                                    AuthData(kRpId, flags, 0, Attested(), ext))),
        challenge_, false);
  };
  auto good = with(kUp | kAt | kEd, extensions);
  ASSERT_TRUE(good) << Message(good);
  EXPECT_EQ(Code(with(kUp | kAt | kEd, "")), ErrorCode::kInvalidArgument);  // ED, no data
  EXPECT_EQ(Code(with(kUp | kAt | kEd, extensions.substr(0, extensions.size() - 1))),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(with(kUp | kAt | kEd, "\x83\x01\x02\x03"s)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code(with(kUp | kAt, extensions)), ErrorCode::kInvalidArgument);  // no ED flag
}

TEST_F(WebAuthnTest, MalformedFieldsAreNamed) {
  RegistrationResponse response = NoneRegistration();
  response.client_data_json += "=";
  EXPECT_NE(Message(VerifyRegistration(rp_, response, challenge_, false)).find("clientDataJSON"),
            std::string::npos);
  response = NoneRegistration();
  response.attestation_object = std::string(kMaxAttestationObjectBytes * 2, 'A');
  auto too_long = VerifyRegistration(rp_, response, challenge_, false);
  EXPECT_EQ(Code(too_long), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(too_long).find("attestationObject is longer"), std::string::npos);
  response =
      Registration("{\"type\":", Base64UrlDecode(NoneRegistration().attestation_object).value());
  EXPECT_EQ(Code(VerifyRegistration(rp_, response, challenge_, false)),
            ErrorCode::kInvalidArgument);
  response = Registration("[1]", Base64UrlDecode(NoneRegistration().attestation_object).value());
  EXPECT_EQ(Code(VerifyRegistration(rp_, response, challenge_, false)),
            ErrorCode::kInvalidArgument);
}

TEST_F(WebAuthnTest, ShortExpectedChallengeIsRefused) {
  // An empty challenge in a lost session must never match an empty one in the response.
  const std::string client_data = ClientData("webauthn.create", "");
  auto credential =
      VerifyRegistration(rp_, NoneRegistration(kUp | kAt, kRpId, client_data), "", false);
  EXPECT_EQ(Code(credential), ErrorCode::kInvalidArgument);
}

TEST(RelyingPartyTest, ValidatesIdAndOrigins) {
  EXPECT_TRUE(ValidateRelyingParty({"idp.example.tw", {"https://idp.example.tw"}}));
  EXPECT_TRUE(ValidateRelyingParty({"example.tw", {"https://login.example.tw:8443"}}));
  EXPECT_TRUE(ValidateRelyingParty({"localhost", {"http://localhost:4600", "https://localhost"}}));
  const RelyingParty bad[] = {
      {"", {"https://idp.example.tw"}},
      {"IDP.example.tw", {"https://IDP.example.tw"}},
      {"idp.example.tw", {}},
      {"idp.example.tw", {"https://evil.tw"}},
      {"idp.example.tw", {"https://xidp.example.tw"}},
      {"idp.example.tw", {"http://idp.example.tw"}},
      {"idp.example.tw", {"https://idp.example.tw/"}},
      {"idp.example.tw", {"https://idp.example.tw:0"}},
      {"idp.example.tw", {"https://idp.example.tw:70000"}},
      {"idp.example.tw", {"idp.example.tw"}},
  };
  for (const RelyingParty& rp : bad) {
    SCOPED_TRACE(rp.id + " " + (rp.origins.empty() ? "" : rp.origins[0]));
    auto status = ValidateRelyingParty(rp);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(ChallengeTest, IsFreshAndLongEnough) {
  const std::string a = NewChallenge(), b = NewChallenge();
  EXPECT_EQ(a.size(), kChallengeBytes);
  EXPECT_NE(a, b);
}

// ---- Assertion ----

TEST_F(WebAuthnTest, AssertionIsAccepted) {
  auto assertion =
      VerifyAssertion(rp_, Assert(5, kUp | kUv | kBe | kBs), challenge_, true, Stored(4));
  ASSERT_TRUE(assertion) << Message(assertion);
  EXPECT_EQ(assertion->sign_count, 5u);
  EXPECT_TRUE(assertion->user_verified);
  EXPECT_TRUE(assertion->backup_eligible);
  EXPECT_TRUE(assertion->backed_up);
}

TEST_F(WebAuthnTest, RegisteredCredentialSignsIn) {
  auto credential = VerifyRegistration(rp_, NoneRegistration(), challenge_, false);
  ASSERT_TRUE(credential) << Message(credential);
  const std::string next = NewChallenge();
  auto assertion =
      VerifyAssertion(rp_, Assert(0, kUp, ClientData("webauthn.get", next)), next, false,
                      {credential->public_key_der, credential->algorithm, credential->sign_count});
  ASSERT_TRUE(assertion) << Message(assertion);
}

TEST_F(WebAuthnTest, AssertionWithBadSignatureIsRefused) {
  auto other = crypto::PrivateKey::GenerateEcP256().value();
  auto assertion = VerifyAssertion(rp_, Assert(1, kUp, {}, &other), challenge_, false, Stored(0));
  ASSERT_FALSE(assertion);
  EXPECT_EQ(assertion.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(assertion).find("does not verify"), std::string::npos);

  // A flag flipped after signing.
  AssertionResponse tampered = Assert(1, kUp);
  std::string auth = Base64UrlDecode(tampered.authenticator_data).value();
  auth[32] = static_cast<char>(kUp | kUv);
  tampered.authenticator_data = Base64UrlEncode(auth);
  EXPECT_EQ(Code(VerifyAssertion(rp_, tampered, challenge_, true, Stored(0))),
            ErrorCode::kUnauthenticated);
}

TEST_F(WebAuthnTest, AssertionChecksRpOriginPresenceAndVerification) {
  EXPECT_EQ(Code(VerifyAssertion(rp_, Assert(1, 0), challenge_, false, Stored(0))),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(Code(VerifyAssertion(rp_, Assert(1, kUp), challenge_, true, Stored(0))),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(Code(VerifyAssertion(
                rp_, Assert(1, kUp, ClientData("webauthn.get", challenge_, "https://evil.tw")),
                challenge_, false, Stored(0))),
            ErrorCode::kUnauthenticated);
  RelyingParty other{"example.tw", {"https://idp.example.tw"}};
  auto assertion = VerifyAssertion(other, Assert(1), challenge_, false, Stored(0));
  EXPECT_EQ(Code(assertion), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(assertion).find("rpIdHash"), std::string::npos);
}

TEST_F(WebAuthnTest, CounterGoingBackIsRefused) {
  for (auto [stored, received] :
       std::initializer_list<std::pair<uint32_t, uint32_t>>{{10, 10}, {10, 5}, {5, 0}}) {
    SCOPED_TRACE(testing::Message() << stored << " -> " << received);
    auto assertion = VerifyAssertion(rp_, Assert(received), challenge_, false, Stored(stored));
    ASSERT_FALSE(assertion);
    EXPECT_EQ(assertion.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_TRUE(Message(assertion).starts_with("the authenticator's signature counter went back"))
        << Message(assertion);
  }
  EXPECT_TRUE(VerifyAssertion(rp_, Assert(11), challenge_, false, Stored(10)));
  EXPECT_TRUE(VerifyAssertion(rp_, Assert(1), challenge_, false, Stored(0)));
}

TEST_F(WebAuthnTest, CounterZeroAndZeroIsAccepted) {
  auto assertion = VerifyAssertion(rp_, Assert(0), challenge_, false, Stored(0));
  ASSERT_TRUE(assertion) << Message(assertion);
  EXPECT_EQ(assertion->sign_count, 0u);
}

TEST_F(WebAuthnTest, ReplayedAssertionWithOldChallengeIsRefused) {
  const AssertionResponse old = Assert(1);
  ASSERT_TRUE(VerifyAssertion(rp_, old, challenge_, false, Stored(0)));
  // The next sign-in has a fresh challenge; the captured response does not carry it.
  const std::string fresh = NewChallenge();
  auto replay = VerifyAssertion(rp_, old, fresh, false, Stored(1));
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(Message(replay).find("challenge"), std::string::npos);
}

TEST_F(WebAuthnTest, CorruptStoredCredentialIsDataLoss) {
  EXPECT_EQ(Code(VerifyAssertion(rp_, Assert(1), challenge_, false, {"not DER", "ES256", 0})),
            ErrorCode::kDataLoss);
  EXPECT_EQ(
      Code(VerifyAssertion(rp_, Assert(1), challenge_, false, {key_.Public().ToDer(), "RS256", 0})),
      ErrorCode::kDataLoss);
}

TEST_F(WebAuthnTest, OversizedAssertionFieldsAreRefused) {
  AssertionResponse response = Assert(1);
  response.signature = std::string(kMaxSignatureBytes * 2, 'A');
  auto assertion = VerifyAssertion(rp_, response, challenge_, false, Stored(0));
  EXPECT_EQ(Code(assertion), ErrorCode::kInvalidArgument);
  EXPECT_NE(Message(assertion).find("signature is longer"), std::string::npos);
  response = Assert(1);
  response.authenticator_data = Base64UrlEncode("short");
  EXPECT_EQ(Code(VerifyAssertion(rp_, response, challenge_, false, Stored(0))),
            ErrorCode::kInvalidArgument);
}

// The registered key (COSE → SubjectPublicKeyInfo here) and the assertion's signed
// bytes, checked by OpenSSL's command line tool rather than by our own code.
TEST_F(WebAuthnTest, AssertionSignatureVerifiesWithOpensslCli) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto credential = VerifyRegistration(rp_, NoneRegistration(), challenge_, false);
  ASSERT_TRUE(credential) << Message(credential);
  const AssertionResponse response = Assert(3, kUp | kUv);
  ASSERT_TRUE(VerifyAssertion(rp_, response, challenge_, true,
                              {credential->public_key_der, credential->algorithm, 2}));

  crypto::testutil::TempDir dir;
  crypto::testutil::WriteFile(dir.File("key.der"), credential->public_key_der);
  crypto::testutil::WriteFile(dir.File("data.bin"),
                              Signed(Base64UrlDecode(response.authenticator_data).value(),
                                     Base64UrlDecode(response.client_data_json).value()));
  crypto::testutil::WriteFile(dir.File("sig.der"), Base64UrlDecode(response.signature).value());
  auto result = crypto::testutil::RunCommand(
      dir, "openssl dgst -sha256 -keyform DER -verify " + dir.File("key.der") + " -signature " +
               dir.File("sig.der") + " " + dir.File("data.bin"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Verified OK"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace troad::identity::webauthn
