#include "crypto/aead.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/random.h"
#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using testutil::ExpectError;

TEST(AeadTest, SealedDataOpensOnlyUnchangedWithItsKeyAndAad) {
  std::string key = RandomBytes(32);
  auto sealed = Aes256GcmSeal(key, "陳示範 A123456789", "tx-1");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->find("A123456789"), std::string::npos);
  EXPECT_EQ(Aes256GcmOpen(key, *sealed, "tx-1").value(), "陳示範 A123456789");
  EXPECT_NE(*Aes256GcmSeal(key, "x", ""), *Aes256GcmSeal(key, "x", "")) << "a fresh nonce";
  ExpectError(Aes256GcmOpen(key, *sealed, "tx-2"), ErrorCode::kUnauthenticated, "does not open");
  ExpectError(Aes256GcmOpen(RandomBytes(32), *sealed, "tx-1"), ErrorCode::kUnauthenticated,
              "does not open");
  std::string changed = *sealed;
  changed[14] ^= 1;
  ExpectError(Aes256GcmOpen(key, changed, "tx-1"), ErrorCode::kUnauthenticated, "does not open");
  ExpectError(Aes256GcmOpen(key, "short", ""), ErrorCode::kInvalidArgument, "at least");
}

// Python's `cryptography` (OpenSSL underneath, but another implementation of the
// framing) as the outside check: it opens what we seal, and we open what it seals.
TEST(AeadTest, AnotherImplementationAgrees) {
  testutil::TempDir dir;
  std::string key = RandomBytes(32);
  auto sealed = Aes256GcmSeal(key, "personal data", "row-7");
  ASSERT_TRUE(sealed);
  std::string script =
      "import sys,base64; from cryptography.hazmat.primitives.ciphers.aead import AESGCM; "
      "k=base64.b64decode(sys.argv[1]); s=base64.b64decode(sys.argv[2]); a=AESGCM(k); "
      "print(a.decrypt(s[:12], s[12:], b'row-7').decode()); "
      "n=b'0123456789ab'; print(base64.b64encode(n+a.encrypt(n, b'from python', "
      "b'row-8')).decode())";
  auto r = testutil::RunCommand(dir, testutil::Python3() + " -c \"" + script + "\" " +
                                         Base64Encode(key) + " " + Base64Encode(*sealed));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(r.output.substr(0, r.output.find('\n')), "personal data");
  std::string theirs = r.output.substr(r.output.find('\n') + 1);
  theirs = theirs.substr(0, theirs.find('\n'));
  auto opened = Aes256GcmOpen(key, Base64Decode(theirs).value(), "row-8");
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(*opened, "from python");
}

TEST(AeadTest, AKeyRingSealsWithTheFirstKeyAndOpensWithAny) {
  std::string old_file = KeyRing::NewKeyFileText("2025-01");
  auto old_ring = KeyRing::Parse(old_file, "keys");
  ASSERT_TRUE(old_ring) << old_ring.error().ToString();
  auto sealed_before = old_ring->Seal("kept from last year", "p-1");
  ASSERT_TRUE(sealed_before);
  // Rotation: a new first line; the old key still opens what it sealed.
  std::string rotated = KeyRing::NewKeyFileText("2026-01") + old_file;
  auto ring = KeyRing::Parse(rotated, "keys");
  ASSERT_TRUE(ring) << ring.error().ToString();
  EXPECT_EQ(ring->current_kid(), "2026-01");
  EXPECT_EQ(ring->Open(*sealed_before, "p-1").value(), "kept from last year");
  auto sealed_now = ring->Seal("new", "p-2");
  ASSERT_TRUE(sealed_now);
  ExpectError(old_ring->Open(*sealed_now, "p-2"), ErrorCode::kNotFound, "2026-01");
  ExpectError(ring->Open("plain text", ""), ErrorCode::kInvalidArgument, "not a sealed value");

  ExpectError(KeyRing::Parse("# nothing\n", "k"), ErrorCode::kInvalidArgument, "no key");
  ExpectError(KeyRing::Parse("a b c\n", "k"), ErrorCode::kInvalidArgument, "line 1");
  ExpectError(KeyRing::Parse("bad/kid " + Base64Encode(RandomBytes(32)), "k"),
              ErrorCode::kInvalidArgument, "kid");
  ExpectError(KeyRing::Parse("k1 " + Base64Encode(RandomBytes(16)), "k"),
              ErrorCode::kInvalidArgument, "32 bytes");
  std::string twice =
      "k1 " + Base64Encode(RandomBytes(32)) + "\nk1 " + Base64Encode(RandomBytes(32));
  ExpectError(KeyRing::Parse(twice, "k"), ErrorCode::kInvalidArgument, "twice");

  testutil::TempDir dir;
  std::string file = dir.File("data.keys");
  ASSERT_TRUE(WriteFileAtomically(file, rotated, 0644));
  ExpectError(KeyRing::Load(file), ErrorCode::kPermissionDenied, "chmod 600");
  ::chmod(file.c_str(), 0600);
  EXPECT_TRUE(KeyRing::Load(file));
}

}  // namespace
}  // namespace troad::crypto
