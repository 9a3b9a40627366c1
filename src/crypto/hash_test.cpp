#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"

namespace troad::crypto {
namespace {

std::string Hex(std::span<const uint8_t> d) { return HexEncode(d); }

const std::string kMillionA(1000000, 'a');
constexpr char k448Bits[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char k896Bits[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
    "opqrsmnopqrstnopqrstu";

// FIPS 180-2 appendix B and C examples, and the empty message.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256(k448Bits)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(Sha256(kMillionA)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha512Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha512("abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(Hex(Sha512("")),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(Hex(Sha512(k896Bits)),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
  EXPECT_EQ(Hex(Sha512(kMillionA)),
            "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
            "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

TEST(Sha256HasherTest, EverySplitMatchesOneShot) {
  std::string data = k448Bits;
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    Sha256Hasher h;
    h.Update(std::string_view(data).substr(0, cut));
    h.Update(std::string_view(data).substr(cut));
    EXPECT_EQ(h.Final(), Sha256(data)) << "cut at " << cut;
  }
}

TEST(Sha256HasherTest, ChunkedMillionAMatchesVector) {
  Sha256Hasher h;
  for (size_t done = 0; done < kMillionA.size(); done += 999) {
    h.Update(std::string_view(kMillionA).substr(done, 999));
  }
  EXPECT_EQ(Hex(h.Final()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256HasherTest, NoUpdateIsEmptyMessage) { EXPECT_EQ(Sha256Hasher().Final(), Sha256("")); }

TEST(Sha256HasherTest, MovedHasherKeepsItsState) {
  Sha256Hasher a;
  a.Update("ab");
  Sha256Hasher b(std::move(a));
  b.Update("c");
  Sha256Hasher c;
  c = std::move(b);
  EXPECT_EQ(c.Final(), Sha256("abc"));
}

TEST(Sha512HasherTest, EverySplitMatchesOneShot) {
  std::string data = k896Bits;
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    Sha512Hasher h;
    h.Update(std::string_view(data).substr(0, cut));
    h.Update(std::string_view(data).substr(cut));
    EXPECT_EQ(h.Final(), Sha512(data)) << "cut at " << cut;
  }
}

TEST(Sha512HasherTest, ChunkedMillionAMatchesOneShot) {
  Sha512Hasher h;
  for (size_t done = 0; done < kMillionA.size(); done += 4096) {
    h.Update(std::string_view(kMillionA).substr(done, 4096));
  }
  EXPECT_EQ(h.Final(), Sha512(kMillionA));
}

TEST(DigestViewTest, ViewsTheDigestBytes) {
  Sha256Digest d = Sha256("abc");
  std::string_view v = DigestView(d);
  ASSERT_EQ(v.size(), 32u);
  EXPECT_EQ(HexEncode(v), Hex(d));
}

TEST(ConstantTimeEqualTest, ComparesContentsAndLength) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEqual("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEqual("Secret", "secret"));
  EXPECT_FALSE(ConstantTimeEqual("secret", "secrets"));
  EXPECT_FALSE(ConstantTimeEqual(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace troad::crypto
