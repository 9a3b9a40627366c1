#include "mydata/package.h"

#include <gtest/gtest.h>

#include "core/file.h"
#include "crypto/hash.h"
#include "crypto/test_util.h"

namespace troad::mydata {
namespace {

using crypto::testutil::ExpectError;
using crypto::testutil::Python3;
using crypto::testutil::RunCommand;

PackagePart Part(std::string dataset, std::string body) {
  PackagePart p;
  p.dataset = std::move(dataset);
  p.service = "TW/GOV/MOI/household/registry";
  p.media_type = "application/json";
  p.body = std::move(body);
  p.response_header = R"({"v":1,"type":"response"})";
  p.response_signature = R"({"alg":"ES256"})";
  p.certificate_der = std::string("\x30\x82\x01\x0a", 4) + "synthetic certificate bytes";
  return p;
}

PackageContents Contents() {
  PackageContents c;
  c.transaction = "9b1e6c1e-1111-4c1e-9b1e-000000000001";
  c.created_at = 1'790'000'000'000;
  c.consent_jws = "eyJhbGciOiJFUzI1NiJ9.eyJjb25zZW50X2lkIjoiMSJ9.c2ln";
  c.parts = {Part("household.members", R"({"nationalId":"A123456789","name":"陳示範"})"),
             Part("nhi.card", R"({"insured":true})")};
  return c;
}

class PackageTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_.File(name);
    EXPECT_TRUE(WriteFileAtomically(path, bytes, 0600));
    return path;
  }
  crypto::testutil::TempDir dir_;
};

TEST_F(PackageTest, APackageReadsBackWithEveryPartAndItsProof) {
  auto zip = BuildPackage(Contents());
  ASSERT_TRUE(zip) << zip.error().ToString();
  auto read = ReadPackage(*zip);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(read->transaction, Contents().transaction);
  EXPECT_EQ(read->consent_jws, Contents().consent_jws);
  ASSERT_EQ(read->parts.size(), 2u);
  EXPECT_EQ(read->parts[0].dataset, "household.members");
  EXPECT_EQ(read->parts[0].body, Contents().parts[0].body);
  EXPECT_EQ(read->parts[0].certificate_der, Contents().parts[0].certificate_der);
  EXPECT_EQ(read->parts[1].response_header, Contents().parts[1].response_header);
}

TEST_F(PackageTest, OrdinaryZipToolsReadItAndTheManifestHoldsTheDigests) {
  auto zip = BuildPackage(Contents());
  ASSERT_TRUE(zip);
  std::string path = Write("package.zip", *zip);
  // Python's zipfile as the outside reader: every CRC checks, the names are as documented,
  // and the manifest's digest of the body is the body's SHA-256.
  auto listed =
      RunCommand(dir_, Python3() +
                           " -c \"import zipfile,json,hashlib,sys; "
                           "z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; "
                           "m=json.loads(z.read('manifest.json')); "
                           "b=z.read('household.members/data.json'); "
                           "assert m['sha256']['household.members/data.json']=="
                           "hashlib.sha256(b).hexdigest(); print(sorted(z.namelist()))\" " +
                           path);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  for (const char* name :
       {"manifest.json", "consent.jws", "household.members/data.json",
        "household.members/response-header.json", "household.members/response-signature.json",
        "household.members/signing-certificate.der", "nhi.card/data.json"}) {
    EXPECT_NE(listed.output.find(name), std::string::npos) << name << " in " << listed.output;
  }
}

TEST_F(PackageTest, WithAPasswordEveryEntryIsAes256Encrypted) {
  const std::string password = "correct horse battery";
  auto zip = BuildPackage(Contents(), password);
  ASSERT_TRUE(zip) << zip.error().ToString();
  std::string path = Write("locked.zip", *zip);
  // 7-Zip as the outside reader: it tests the archive with the password, refuses a wrong
  // one, and reports the method as AES-256.
  auto good = RunCommand(dir_, "7z t -p'" + password + "' " + path);
  EXPECT_EQ(good.exit_code, 0) << good.output;
  auto info = RunCommand(dir_, "7z l -slt -p'" + password + "' " + path);
  EXPECT_NE(info.output.find("AES-256"), std::string::npos) << info.output;
  auto wrong = RunCommand(dir_, "7z t -p'wrong password' " + path);
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  // The body is not in the file in the clear.
  EXPECT_EQ(zip->find("A123456789"), std::string::npos);

  auto read = ReadPackage(*zip, password);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(read->parts[0].body, Contents().parts[0].body);
  ExpectError(ReadPackage(*zip, "not the password"), ErrorCode::kUnauthenticated, "wrong password");
  ExpectError(ReadPackage(*zip), ErrorCode::kUnauthenticated, "password is needed");
  ExpectError(BuildPackage(Contents(), "short"), ErrorCode::kInvalidArgument, "8 to 128");

  // The same files under the weak legacy ZIP encryption (ZipCrypto), made by 7-Zip:
  // refused by name, not opened.
  const std::string x = dir_.File("x");
  auto legacy = RunCommand(dir_, "mkdir -p " + x + " && cd " + x + " && 7z x -p'" + password +
                                     "' " + path + " > /dev/null && 7z a -tzip -mem=ZipCrypto -p'" +
                                     password + "' " + dir_.File("legacy.zip") + " . > /dev/null");
  ASSERT_EQ(legacy.exit_code, 0) << legacy.output;
  ExpectError(ReadPackage(crypto::testutil::ReadFile(dir_.File("legacy.zip")), password),
              ErrorCode::kInvalidArgument, "other than AES-256");
}

TEST_F(PackageTest, AChangedOrAddedFileIsFoundAndNamed) {
  auto zip = BuildPackage(Contents());
  ASSERT_TRUE(zip);
  std::string path = Write("package.zip", *zip);
  // Rewritten by another tool with one body changed (its CRC is right: only the
  // manifest's digest can tell), and with a file the manifest does not list.
  auto changed = RunCommand(
      dir_,
      Python3() +
          " -c \"import zipfile,sys; s=zipfile.ZipFile(sys.argv[1]); "
          "d=zipfile.ZipFile(sys.argv[2],'w'); "
          "[d.writestr(n, s.read(n) if n!='nhi.card/data.json' else b'{\\\"insured\\\":false}')"
          " for n in s.namelist()]; d.close(); "
          "e=zipfile.ZipFile(sys.argv[3],'w'); [e.writestr(n, s.read(n)) for n in s.namelist()]; "
          "e.writestr('extra.txt', b'x'); e.close()\" " +
          path + " " + dir_.File("changed.zip") + " " + dir_.File("extra.zip"));
  ASSERT_EQ(changed.exit_code, 0) << changed.output;
  ExpectError(ReadPackage(crypto::testutil::ReadFile(dir_.File("changed.zip"))),
              ErrorCode::kInvalidArgument, "nhi.card/data.json does not match its SHA-256");
  ExpectError(ReadPackage(crypto::testutil::ReadFile(dir_.File("extra.zip"))),
              ErrorCode::kInvalidArgument, "extra.txt is in the package but not in the manifest");

  // A flipped byte inside the compressed data: the ZIP's own checks catch it.
  std::string damaged = *zip;
  damaged[damaged.size() / 3] ^= 0x40;
  EXPECT_FALSE(ReadPackage(damaged));
  ExpectError(ReadPackage("not a zip at all"), ErrorCode::kInvalidArgument, "not a readable ZIP");
}

TEST_F(PackageTest, BadContentsAreRefused) {
  PackageContents none = Contents();
  none.parts.clear();
  ExpectError(BuildPackage(none), ErrorCode::kInvalidArgument, "1 to 100 datasets");
  PackageContents twice = Contents();
  twice.parts.push_back(twice.parts[0]);
  ExpectError(BuildPackage(twice), ErrorCode::kInvalidArgument, "twice");
  PackageContents unsigned_part = Contents();
  unsigned_part.parts[1].response_signature.clear();
  ExpectError(BuildPackage(unsigned_part), ErrorCode::kInvalidArgument, "H, S");
  PackageContents escape = Contents();
  escape.parts[0].dataset = "../etc";
  ExpectError(BuildPackage(escape), ErrorCode::kInvalidArgument, "dataset:");
}

}  // namespace
}  // namespace troad::mydata
