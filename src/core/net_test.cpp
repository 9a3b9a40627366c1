#include "core/net.h"

#include <gtest/gtest.h>

namespace troad {
namespace {

TEST(HostPortTest, JoinIsTheInverseOfSplit) {
  EXPECT_EQ(JoinHostPort("127.0.0.1", 8443), "127.0.0.1:8443");
  EXPECT_EQ(JoinHostPort("::1", 8444), "[::1]:8444");
  EXPECT_EQ(JoinHostPort("gw.example.gov.tw", 443), "gw.example.gov.tw:443");
  for (const auto& [host, port] : {std::pair<std::string, uint16_t>{"10.0.0.5", 1},
                                   {"fe80::1", 65535}, {"central", 4400}}) {
    auto split = SplitHostPort(JoinHostPort(host, port));
    ASSERT_TRUE(split) << host;
    EXPECT_EQ(split->first, host);
    EXPECT_EQ(split->second, port);
  }
  EXPECT_FALSE(SplitHostPort("no-port"));
  EXPECT_FALSE(SplitHostPort("[::1:80"));
}

TEST(RedirectUriTest, OnlyHttpsOrLoopbackHttp) {
  EXPECT_TRUE(ValidateRedirectUri("https://svc.example.tw/cb"));
  EXPECT_TRUE(ValidateRedirectUri("http://localhost:3000/cb"));
  EXPECT_TRUE(ValidateRedirectUri("http://127.0.0.1/cb"));
  EXPECT_FALSE(ValidateRedirectUri("http://svc.example.tw/cb"));
  EXPECT_FALSE(ValidateRedirectUri("https://svc.example.tw/cb#frag"));
  EXPECT_FALSE(ValidateRedirectUri("javascript:alert(1)"));
  EXPECT_FALSE(ValidateRedirectUri("https://user@svc.example.tw/cb"));
  EXPECT_FALSE(ValidateRedirectUri("https://svc.example.tw/a b"));
  auto refused = ValidateRedirectUri("http://svc.example.tw/cb");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("only to localhost"), std::string::npos);
}

}  // namespace
}  // namespace troad
