#include "gateway/access.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/ca.h"
#include "gateway/fault.h"

namespace troad::gateway {
namespace {

using nlohmann::json;

// ---- PathMatches -------------------------------------------------------------------

TEST(PathMatchesTest, LiteralSegmentsMatchOnlyThemselves) {
  EXPECT_TRUE(PathMatches("/records", "/records"));
  EXPECT_TRUE(PathMatches("/records/list", "/records/list"));
  EXPECT_FALSE(PathMatches("/records", "/record"));
  EXPECT_FALSE(PathMatches("/records", "/records/1"));
  EXPECT_FALSE(PathMatches("/records/1", "/records"));
  EXPECT_FALSE(PathMatches("/records", "/Records"));  // case matters
  EXPECT_FALSE(PathMatches("/a/b", "/b/a"));
  EXPECT_TRUE(PathMatches("/", "/"));
  EXPECT_TRUE(PathMatches("/", ""));
  EXPECT_FALSE(PathMatches("/", "/a"));
}

TEST(PathMatchesTest, StarAndNamedParameterMatchExactlyOneSegment) {
  for (const char* pattern : {"/records/*", "/records/{id}"}) {
    SCOPED_TRACE(pattern);
    EXPECT_TRUE(PathMatches(pattern, "/records/1"));
    EXPECT_TRUE(PathMatches(pattern, "/records/A123456789"));
    EXPECT_FALSE(PathMatches(pattern, "/records"));
    EXPECT_FALSE(PathMatches(pattern, "/records/1/history"));
    EXPECT_FALSE(PathMatches(pattern, "/other/1"));
  }
  EXPECT_TRUE(PathMatches("/records/{id}/history", "/records/7/history"));
  EXPECT_FALSE(PathMatches("/records/{id}/history", "/records/7/other"));
  EXPECT_TRUE(PathMatches("/*/x", "/a/x"));
  // "{" without "}" is a literal segment, not a parameter.
  EXPECT_FALSE(PathMatches("/records/{id", "/records/1"));
  EXPECT_TRUE(PathMatches("/records/{id", "/records/{id"));
}

TEST(PathMatchesTest, DoubleStarMatchesAnyNumberOfSegments) {
  // At the end: zero, one, many.
  EXPECT_TRUE(PathMatches("/records/**", "/records"));
  EXPECT_TRUE(PathMatches("/records/**", "/records/1"));
  EXPECT_TRUE(PathMatches("/records/**", "/records/1/2/3"));
  EXPECT_FALSE(PathMatches("/records/**", "/other/1"));
  // In the middle: zero, one, many, and the tail must still match.
  EXPECT_TRUE(PathMatches("/a/**/z", "/a/z"));
  EXPECT_TRUE(PathMatches("/a/**/z", "/a/b/z"));
  EXPECT_TRUE(PathMatches("/a/**/z", "/a/b/c/d/z"));
  EXPECT_FALSE(PathMatches("/a/**/z", "/a/b/c"));
  EXPECT_FALSE(PathMatches("/a/**/z", "/a/z/b"));
  EXPECT_TRUE(PathMatches("/a/**/{id}/z", "/a/b/c/z"));
  EXPECT_FALSE(PathMatches("/a/**/{id}/z", "/a/z"));
  // Alone: everything.
  EXPECT_TRUE(PathMatches("/**", "/"));
  EXPECT_TRUE(PathMatches("/**", "/x/y/z"));
  // Two of them.
  EXPECT_TRUE(PathMatches("/**/b/**", "/a/b/c"));
  EXPECT_TRUE(PathMatches("/**/b/**", "/b"));
  EXPECT_FALSE(PathMatches("/**/b/**", "/a/c"));
}

TEST(PathMatchesTest, TrailingSlashIsAnEmptyLastSegment) {
  // NormalizeRestPath keeps "/a/" distinct from "/a", and so do rules.
  EXPECT_FALSE(PathMatches("/records", "/records/"));
  EXPECT_FALSE(PathMatches("/records/", "/records"));
  EXPECT_TRUE(PathMatches("/records/", "/records/"));
  // "*" matches exactly one segment, and an empty one is a segment.
  EXPECT_TRUE(PathMatches("/records/*", "/records/"));
  EXPECT_TRUE(PathMatches("/records/**", "/records/"));
}

TEST(PathMatchesTest, StarAloneMatchesEveryPath) {
  EXPECT_TRUE(PathMatches("*", "/"));
  EXPECT_TRUE(PathMatches("*", ""));
  EXPECT_TRUE(PathMatches("*", "/a/b/c/"));
  // "/*" is not "*": one segment only.
  EXPECT_TRUE(PathMatches("/*", "/a"));
  EXPECT_FALSE(PathMatches("/*", "/a/b"));
}

// ---- EndpointMatches ---------------------------------------------------------------

TEST(EndpointMatchesTest, MethodMustMatchExactlyUnlessStar) {
  globalconf::Endpoint get{"GET", "/records/{id}"};
  EXPECT_TRUE(EndpointMatches(get, "GET", "/records/1"));
  EXPECT_FALSE(EndpointMatches(get, "POST", "/records/1"));
  EXPECT_FALSE(EndpointMatches(get, "get", "/records/1"));
  EXPECT_FALSE(EndpointMatches(get, "HEAD", "/records/1"));
  EXPECT_FALSE(EndpointMatches(get, "GET", "/records"));

  globalconf::Endpoint any{"*", "/records/{id}"};
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    EXPECT_TRUE(EndpointMatches(any, method, "/records/1")) << method;
  }
  EXPECT_FALSE(EndpointMatches(any, "GET", "/other"));

  globalconf::Endpoint everything{"*", "*"};
  EXPECT_TRUE(EndpointMatches(everything, "DELETE", "/x/y"));
}

// ---- CheckGrant --------------------------------------------------------------------

// A global configuration with three client subsystems and two services of MOI:
//   BLI/insurance   may call getRecord, all of it
//   TAX/tax         may call getRecord, only GET /records/{id} and POST /records
//   TAX/audit       has no grant
//   BLI (member)    may call otherService (a member-level grant)
class CheckGrantTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FakeClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
    auto key = crypto::PrivateKey::GenerateEcP256();
    ASSERT_TRUE(key);
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    auto ca = crypto::CreateSelfSignedCa(*key, req, clock);
    ASSERT_TRUE(ca) << ca.error().ToString();
    json doc = {
        {"format", "troad-globalconf/1"},
        {"instance", "TW"},
        {"version", 1},
        {"issued_at", "2026-01-01T00:00:00Z"},
        {"expires_at", "2026-02-01T00:00:00Z"},
        {"trusted_cas", {ca->ToPem()}},
        {"members",
         {{{"id", "TW/GOV/MOI"}, {"name", "內政部"}},
          {{"id", "TW/GOV/BLI"}, {"name", "勞動部勞工保險局"}},
          {{"id", "TW/GOV/TAX"}, {"name", "財政部"}}}},
        {"subsystems",
         {{{"id", "TW/GOV/MOI/household"}},
          {{"id", "TW/GOV/BLI/insurance"}},
          {{"id", "TW/GOV/TAX/tax"}},
          {{"id", "TW/GOV/TAX/audit"}}}},
        {"services",
         {{{"id", "TW/GOV/MOI/household/getRecord"}},
          {{"id", "TW/GOV/MOI/household/otherService"}}}},
        {"grants",
         {{{"client", "TW/GOV/BLI/insurance"}, {"service", "TW/GOV/MOI/household/getRecord"}},
          {{"client", "TW/GOV/TAX/tax"},
           {"service", "TW/GOV/MOI/household/getRecord"},
           {"rules",
            {{{"method", "GET"}, {"path", "/records/{id}"}},
             {{"method", "POST"}, {"path", "/records"}}}}},
          {{"client", "TW/GOV/BLI"}, {"service", "TW/GOV/MOI/household/otherService"}}}},
    };
    auto conf = globalconf::GlobalConf::Parse(doc.dump());
    ASSERT_TRUE(conf) << conf.error().ToString();
    conf_ = new std::shared_ptr<const globalconf::GlobalConf>(*conf);
  }
  static void TearDownTestSuite() {
    delete conf_;
    conf_ = nullptr;
  }

  static Status Check(const char* client, const char* service, const char* method,
                      const char* path) {
    return CheckGrant(**conf_, *ClientId::Parse(client), *ServiceId::Parse(service), method, path);
  }

  static void ExpectDenied(const Status& status) {
    ASSERT_FALSE(status) << "allowed";
    EXPECT_EQ(status.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_EQ(status.error().fault(), kFaultAccessDenied);
  }

  static constexpr const char* kGetRecord = "TW/GOV/MOI/household/getRecord";
  static constexpr const char* kOther = "TW/GOV/MOI/household/otherService";
  static std::shared_ptr<const globalconf::GlobalConf>* conf_;
};

std::shared_ptr<const globalconf::GlobalConf>* CheckGrantTest::conf_ = nullptr;

TEST_F(CheckGrantTest, NoGrantIsAccessDenied) {
  Status st = Check("TW/GOV/TAX/audit", kGetRecord, "GET", "/records/1");
  ExpectDenied(st);
  // The message names who, what and which service, for the operator reading the log.
  EXPECT_NE(st.error().message().find("TW/GOV/TAX/audit"), std::string::npos);
  EXPECT_NE(st.error().message().find("GET /records/1"), std::string::npos);
  EXPECT_NE(st.error().message().find(kGetRecord), std::string::npos);
  // A client unknown to the configuration altogether is denied the same way.
  ExpectDenied(Check("TW/GOV/XYZ/unknown", kGetRecord, "GET", "/"));
}

TEST_F(CheckGrantTest, GrantWithoutRulesAllowsEveryMethodAndPath) {
  for (const char* method : {"GET", "POST", "DELETE", "PATCH"}) {
    for (const char* path : {"/", "", "/records/1", "/a/b/c/", "/admin"}) {
      EXPECT_TRUE(Check("TW/GOV/BLI/insurance", kGetRecord, method, path)) << method << " " << path;
    }
  }
}

TEST_F(CheckGrantTest, GrantWithRulesAllowsOnlyThoseEndpoints) {
  EXPECT_TRUE(Check("TW/GOV/TAX/tax", kGetRecord, "GET", "/records/A123"));
  EXPECT_TRUE(Check("TW/GOV/TAX/tax", kGetRecord, "POST", "/records"));
  ExpectDenied(Check("TW/GOV/TAX/tax", kGetRecord, "DELETE", "/records/A123"));
  ExpectDenied(Check("TW/GOV/TAX/tax", kGetRecord, "GET", "/records"));
  ExpectDenied(Check("TW/GOV/TAX/tax", kGetRecord, "POST", "/records/A123"));
  ExpectDenied(Check("TW/GOV/TAX/tax", kGetRecord, "GET", "/records/A123/history"));
  ExpectDenied(Check("TW/GOV/TAX/tax", kGetRecord, "GET", "/"));
}

TEST_F(CheckGrantTest, AnotherClientsGrantDoesNotApply) {
  // audit is a subsystem of the same member as tax, which holds a grant.
  ExpectDenied(Check("TW/GOV/TAX/audit", kGetRecord, "GET", "/records/A123"));
  // The member itself does not inherit its subsystem's grant...
  ExpectDenied(Check("TW/GOV/BLI", kGetRecord, "GET", "/"));
  // ...and a subsystem does not inherit its member's grant.
  EXPECT_TRUE(Check("TW/GOV/BLI", kOther, "GET", "/"));
  ExpectDenied(Check("TW/GOV/BLI/insurance", kOther, "GET", "/"));
}

TEST_F(CheckGrantTest, GrantForAnotherServiceDoesNotApply) {
  ExpectDenied(Check("TW/GOV/TAX/tax", kOther, "GET", "/records/A123"));
  // Nor for a service of the same code at another provider.
  ExpectDenied(Check("TW/GOV/BLI/insurance", "TW/GOV/BLI/insurance/getRecord", "GET", "/"));
}

// ---- CheckGrant with global groups ------------------------------------------------

// MOI's getRecord, and a global group "cleared" (security-cleared agencies) that MOI
// granted GET /records/{id}; BLI/insurance also holds a direct grant of POST /records.
// Each test takes the configuration a gateway would hold after the central's change.
class GroupGrantTest : public ::testing::Test {
 protected:
  struct Options {
    std::vector<std::string> members = {"TW/GOV/TAX/tax", "TW/GOV/BLI/insurance"};
    bool group_grant = true;
  };

  static std::shared_ptr<const globalconf::GlobalConf> Conf(const Options& options) {
    static const std::string ca_pem = [] {
      FakeClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
      auto key = crypto::PrivateKey::GenerateEcP256();
      crypto::CertificateRequest req;
      req.common_name = "TW test CA";
      return crypto::CreateSelfSignedCa(*key, req, clock)->ToPem();
    }();
    json grants = {{{"client", "TW/GOV/BLI/insurance"},
                    {"service", kGetRecord},
                    {"rules", {{{"method", "POST"}, {"path", "/records"}}}}}};
    if (options.group_grant) {
      grants.push_back({{"group", "cleared"},
                        {"service", kGetRecord},
                        {"rules", {{{"method", "GET"}, {"path", "/records/{id}"}}}}});
    }
    json doc = {
        {"format", "troad-globalconf/1"},
        {"instance", "TW"},
        {"version", 1},
        {"issued_at", "2026-01-01T00:00:00Z"},
        {"expires_at", "2026-02-01T00:00:00Z"},
        {"trusted_cas", {ca_pem}},
        {"members",
         {{{"id", "TW/GOV/MOI"}, {"name", "內政部"}},
          {{"id", "TW/GOV/BLI"}, {"name", "勞動部勞工保險局"}},
          {{"id", "TW/GOV/TAX"}, {"name", "財政部"}}}},
        {"subsystems",
         {{{"id", "TW/GOV/MOI/household"}},
          {{"id", "TW/GOV/BLI/insurance"}},
          {{"id", "TW/GOV/TAX/tax"}},
          {{"id", "TW/GOV/TAX/audit"}}}},
        {"global_groups",
         {{{"code", "cleared"}, {"description", "安全查核機關"}, {"members", options.members}}}},
        {"services", {{{"id", kGetRecord}}}},
        {"grants", grants},
    };
    auto conf = globalconf::GlobalConf::Parse(doc.dump());
    EXPECT_TRUE(conf) << conf.error().ToString();
    return conf ? *conf : nullptr;
  }

  static Status Check(const globalconf::GlobalConf& conf, const char* client, const char* method,
                      const char* path) {
    return CheckGrant(conf, *ClientId::Parse(client), *ServiceId::Parse(kGetRecord), method, path);
  }

  static void ExpectDenied(const Status& status) {
    ASSERT_FALSE(status) << "allowed";
    EXPECT_EQ(status.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_EQ(status.error().fault(), kFaultAccessDenied);
  }

  static constexpr const char* kGetRecord = "TW/GOV/MOI/household/getRecord";
};

TEST_F(GroupGrantTest, AGroupGrantAllowsEveryMemberItsRulesOnly) {
  auto conf = Conf({});
  ASSERT_NE(conf, nullptr);
  EXPECT_TRUE(Check(*conf, "TW/GOV/TAX/tax", "GET", "/records/A123"));
  ExpectDenied(Check(*conf, "TW/GOV/TAX/tax", "POST", "/records"));
  ExpectDenied(Check(*conf, "TW/GOV/TAX/tax", "GET", "/records"));
  // A member with a grant of its own holds both: the group's and its own.
  EXPECT_TRUE(Check(*conf, "TW/GOV/BLI/insurance", "GET", "/records/A123"));
  EXPECT_TRUE(Check(*conf, "TW/GOV/BLI/insurance", "POST", "/records"));
}

TEST_F(GroupGrantTest, ANonMemberIsDenied) {
  auto conf = Conf({});
  ASSERT_NE(conf, nullptr);
  // Another subsystem of a member whose subsystem is in the group.
  ExpectDenied(Check(*conf, "TW/GOV/TAX/audit", "GET", "/records/A123"));
  // The member itself: membership is per subsystem, not inherited either way.
  ExpectDenied(Check(*conf, "TW/GOV/TAX", "GET", "/records/A123"));
  // The provider's own subsystem, and a client the configuration does not know.
  ExpectDenied(Check(*conf, "TW/GOV/MOI/household", "GET", "/records/A123"));
  ExpectDenied(Check(*conf, "TW/GOV/XYZ/cleared", "GET", "/records/A123"));
}

TEST_F(GroupGrantTest, RemovingAMemberDeniesItAtOnce) {
  auto conf = Conf({.members = {"TW/GOV/BLI/insurance"}, .group_grant = true});
  ASSERT_NE(conf, nullptr);
  Status st = Check(*conf, "TW/GOV/TAX/tax", "GET", "/records/A123");
  ExpectDenied(st);
  EXPECT_NE(st.error().message().find("TW/GOV/TAX/tax"), std::string::npos);
  // The remaining member keeps the group's grant.
  EXPECT_TRUE(Check(*conf, "TW/GOV/BLI/insurance", "GET", "/records/A123"));
}

TEST_F(GroupGrantTest, WithdrawingTheGroupGrantDeniesEveryMember) {
  auto conf = Conf({.members = {"TW/GOV/TAX/tax", "TW/GOV/BLI/insurance"}, .group_grant = false});
  ASSERT_NE(conf, nullptr);
  ExpectDenied(Check(*conf, "TW/GOV/TAX/tax", "GET", "/records/A123"));
  ExpectDenied(Check(*conf, "TW/GOV/BLI/insurance", "GET", "/records/A123"));
  // A direct grant is not the group's to take away.
  EXPECT_TRUE(Check(*conf, "TW/GOV/BLI/insurance", "POST", "/records"));
}

}  // namespace
}  // namespace troad::gateway
