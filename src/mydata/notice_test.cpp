#include "mydata/notice.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/test_util.h"

namespace troad::mydata {
namespace {

using crypto::testutil::ExpectError;

TEST(NoticeTest, AddressesThatCouldAddAHeaderOrARecipientAreRefused) {
  EXPECT_TRUE(ValidateEmailAddress("lin.demo@example.tw"));
  for (const char* bad : {"", "no-at-sign", "a@b", "a@@b.tw", "a@b.tw\r\nBcc: x@y.tw",
                          "a@b.tw, c@d.tw", "Lin <a@b.tw>", "a b@c.tw", "@b.tw"}) {
    SCOPED_TRACE(bad);
    ExpectError(ValidateEmailAddress(bad), ErrorCode::kInvalidArgument, "not an e-mail address");
  }
}

TEST(NoticeTest, TheMessageIsMimeWithAnEncodedSubjectAndBase64Body) {
  SmtpOptions smtp;
  smtp.from = "mydata@mydata.example.tw";
  Email e =
      UsageNotice("lin.demo@example.tw", "示範銀行", "Demo Bank", {"戶籍資料", "健保投保資料"},
                  std::chrono::system_clock::from_time_t(1'790'000'000));
  std::string m =
      ComposeEmail(smtp, e, std::chrono::system_clock::from_time_t(1'790'000'000), "abc-123");
  EXPECT_NE(m.find("From: mydata@mydata.example.tw\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("To: lin.demo@example.tw\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <abc-123@mydata.example.tw>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Date: Mon, 21 Sep 2026 14:13:20 +0000"), std::string::npos) << m;
  EXPECT_EQ(m.find("示範銀行"), std::string::npos) << "nothing but ASCII on the wire";
  // Every line is CRLF-terminated and at most 78 characters (RFC 5322 §2.1.1).
  size_t start = 0;
  while (start < m.size()) {
    size_t end = m.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "a line without CRLF";
    EXPECT_LE(end - start, 78u) << m.substr(start, end - start);
    start = end + 2;
  }
  size_t body = m.find("\r\n\r\n") + 4;
  std::string encoded = m.substr(body);
  encoded.erase(std::remove(encoded.begin(), encoded.end(), '\r'), encoded.end());
  encoded.erase(std::remove(encoded.begin(), encoded.end(), '\n'), encoded.end());
  auto text = Base64Decode(encoded);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("示範銀行"), std::string::npos);
  EXPECT_NE(text->find("戶籍資料"), std::string::npos);
  EXPECT_NE(text->find("2026-09-21 22:13:20"), std::string::npos) << "Taipei time: " << *text;
  EXPECT_NE(text->find("Demo Bank"), std::string::npos);
}

}  // namespace
}  // namespace troad::mydata
