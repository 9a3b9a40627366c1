#include "crypto/password.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using testutil::RunCommand;
using testutil::TempDir;

// Small parameters keep the tests fast; the defaults are checked once.
constexpr PasswordParams kFast{.memory_kib = 64, .iterations = 1, .parallelism = 1};

// Written by Debian's argon2 CLI:
//   echo -n 'correct horse battery' | argon2 somesaltsomesalt -id -m 12 -t 2 -p 1 -e
constexpr std::string_view kCliHash =
    "$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rH1Ybulj29NGEEGtGp+"
    "nrIox7PycWy6oL06PCmfvSNI";

TEST(PasswordTest, RightPasswordVerifiesAndWrongOneDoesNot) {
  auto hash = HashPassword("correct horse battery", kFast);
  ASSERT_TRUE(hash) << hash.error().ToString();
  auto right = VerifyPassword("correct horse battery", *hash);
  ASSERT_TRUE(right) << right.error().ToString();
  EXPECT_TRUE(*right);
  for (std::string_view wrong : {"correct horse batterY", "correct horse battery ", "", "c"}) {
    auto result = VerifyPassword(wrong, *hash);
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_FALSE(*result) << wrong;
  }
}

TEST(PasswordTest, DefaultsAreOwaspArgon2idWithSixteenByteSalt) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash) << hash.error().ToString();
  ASSERT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  // 16 bytes of salt and 32 of hash in unpadded base64: 22 and 43 characters.
  const std::string rest = hash->substr(hash->find("p=1$") + 4);
  EXPECT_EQ(rest.find('$'), 22u) << *hash;
  EXPECT_EQ(rest.size(), 22u + 1 + 43) << *hash;
  EXPECT_TRUE(*VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(NeedsRehash(*hash));
}

TEST(PasswordTest, EachHashHasItsOwnSalt) {
  auto a = HashPassword("the same password", kFast);
  auto b = HashPassword("the same password", kFast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(*VerifyPassword("the same password", *b));
}

TEST(PasswordTest, PasswordsWithNulAndNonAsciiBytesAreHashedWhole) {
  const std::string with_nul("abc\0def", 7);
  auto hash = HashPassword(with_nul, kFast);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(*VerifyPassword(with_nul, *hash));
  EXPECT_FALSE(*VerifyPassword("abc", *hash));  // not cut at the NUL

  auto unicode = HashPassword("pässwörd 密码 🔑", kFast);
  ASSERT_TRUE(unicode);
  EXPECT_TRUE(*VerifyPassword("pässwörd 密码 🔑", *unicode));
  EXPECT_FALSE(*VerifyPassword("passwoerd 密码 🔑", *unicode));
}

TEST(PasswordTest, RecordedArgon2CliHashVerifies) {
  EXPECT_TRUE(*VerifyPassword("correct horse battery", kCliHash));
  EXPECT_FALSE(*VerifyPassword("correct horse batter", kCliHash));
  EXPECT_TRUE(NeedsRehash(kCliHash));  // m=4096, not the default
  EXPECT_FALSE(NeedsRehash(kCliHash, {.memory_kib = 4096, .iterations = 2, .parallelism = 1}));
}

TEST(PasswordTest, HashFromTheArgon2CliVerifies) {
  if (std::system("command -v argon2 > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "the argon2 command line tool is not installed (apt-get install argon2)";
  }
  TempDir dir;
  struct Case {
    std::string options;
    std::string password;
  };
  for (const Case& c : {Case{"-m 12 -t 3 -p 1", "Tr0ub4dor&3 is not it"},
                        Case{"-m 10 -t 1 -p 4 -l 16", "four lanes, short hash"},
                        Case{"-m 14 -t 2 -p 2 -l 64", "pässwörd 密码 🔑"}}) {
    auto out = RunCommand(
        dir, "printf '%s' '" + c.password + "' | argon2 saltsaltsaltsalt -id -e " + c.options);
    ASSERT_EQ(out.exit_code, 0) << out.output;
    std::string encoded = out.output.substr(0, out.output.find('\n'));
    ASSERT_TRUE(encoded.starts_with("$argon2id$v=19$")) << encoded;
    auto ok = VerifyPassword(c.password, encoded);
    ASSERT_TRUE(ok) << encoded << ": " << ok.error().ToString();
    EXPECT_TRUE(*ok) << encoded;
    EXPECT_FALSE(*VerifyPassword(c.password + "x", encoded)) << encoded;
  }
}

TEST(PasswordTest, MalformedOrUnsupportedHashesAreRefused) {
  const std::string salt = "c29tZXNhbHRzb21lc2FsdA";
  const std::string hash = "rH1Ybulj29NGEEGtGp+nrIox7PycWy6oL06PCmfvSNI";
  const std::string params = "m=4096,t=2,p=1";
  for (const std::string& bad : {
           std::string(""),
           std::string("password"),
           std::string("$2b$12$abcdefghijklmnopqrstuu"),                 // bcrypt
           "$argon2i$v=19$" + params + "$" + salt + "$" + hash,          // other variant
           "$argon2d$v=19$" + params + "$" + salt + "$" + hash,          // other variant
           "$argon2id$v=16$" + params + "$" + salt + "$" + hash,         // version 1.0
           "$argon2id$" + params + "$" + salt + "$" + hash,              // no version
           "$argon2id$v=19$t=2,m=4096,p=1$" + salt + "$" + hash,         // order
           "$argon2id$v=19$m=4096,t=2$" + salt + "$" + hash,             // missing p
           "$argon2id$v=19$m=04096,t=2,p=1$" + salt + "$" + hash,        // leading zero
           "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + hash,           // sign
           "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + hash,  // overflow
           "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + hash,   // 4 TiB
           "$argon2id$v=19$m=4096,t=4000000000,p=1$" + salt + "$" + hash,
           "$argon2id$v=19$m=4096,t=0,p=1$" + salt + "$" + hash,
           "$argon2id$v=19$m=4096,t=2,p=0$" + salt + "$" + hash,
           "$argon2id$v=19$m=4096,t=2,p=255$" + salt + "$" + hash,
           "$argon2id$v=19$m=7,t=2,p=1$" + salt + "$" + hash,
           "$argon2id$v=19$" + params + "$" + salt,         // no hash
           "$argon2id$v=19$" + params + "$" + salt + "$",   // empty hash
           "$argon2id$v=19$" + params + "$$" + hash,        // empty salt
           "$argon2id$v=19$" + params + "$c2FsdA$" + hash,  // 4-byte salt
           "$argon2id$v=19$" + params + "$" + salt + "$" + hash + "=",
           "$argon2id$v=19$" + params + "$" + salt + "$" + hash + "$x",
           "$argon2id$v=19$" + params + "$" + salt + "$rH1Y*ulj29NGEEGtGp+nrIox7PycWy6oL06PCmfvSNI",
           "$argon2id$v=19$" + params + "$" + salt + "$" + hash + hash + "AAAA",  // 67 bytes
           "$argon2id$v=19$" + params + "$" + salt + "$" + hash.substr(0, 20),    // 15 bytes
       }) {
    auto result = VerifyPassword("correct horse battery", bad);
    ASSERT_FALSE(result) << bad << " was accepted";
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_TRUE(result.error().message().starts_with("password hash: "))
        << result.error().message();
    EXPECT_TRUE(NeedsRehash(bad)) << bad;
  }
}

TEST(PasswordTest, ParametersOutOfBoundsAreRefusedWhenHashing) {
  for (const PasswordParams& p :
       {PasswordParams{.memory_kib = 4, .iterations = 1, .parallelism = 1},
        PasswordParams{.memory_kib = 64, .iterations = 0, .parallelism = 1},
        PasswordParams{.memory_kib = 64, .iterations = 1, .parallelism = 0},
        PasswordParams{.memory_kib = 64, .iterations = 1, .parallelism = 9},
        PasswordParams{
            .memory_kib = kPasswordMaxMemoryKib + 1, .iterations = 1, .parallelism = 1}}) {
    auto hash = HashPassword("whatever it is", p);
    ASSERT_FALSE(hash) << p.memory_kib << " " << p.iterations << " " << p.parallelism;
    EXPECT_EQ(hash.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(PasswordTest, PolicyWantsTwelveCharactersOfValidUtf8UpTo1024Bytes) {
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars"));
  EXPECT_TRUE(CheckPasswordPolicy("ääääääääääää"));  // 12 characters, 24 bytes
  EXPECT_TRUE(CheckPasswordPolicy(std::string(1024, 'x')));

  auto short_one = CheckPasswordPolicy("eleven char");
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(short_one.error().message(), "the password has 11 characters; it needs at least 12");
  // 11 characters even though 22 bytes.
  EXPECT_EQ(CheckPasswordPolicy("äääääääääää").error().message(),
            "the password has 11 characters; it needs at least 12");

  auto long_one = CheckPasswordPolicy(std::string(1025, 'x'));
  ASSERT_FALSE(long_one);
  EXPECT_EQ(long_one.error().message(), "the password is longer than 1024 bytes");

  auto bad_utf8 = CheckPasswordPolicy("twelve chars \xC3\x28");
  ASSERT_FALSE(bad_utf8);
  EXPECT_EQ(bad_utf8.error().message(), "the password is not valid UTF-8 text");
  EXPECT_FALSE(CheckPasswordPolicy(""));
}

}  // namespace
}  // namespace troad::crypto
