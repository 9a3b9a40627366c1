// MyData's e-mail notices delivered to a real SMTP server on loopback (aiosmtpd, as
// Debian packages it), read back from its Maildir with Python's email parser as the
// person's mail program would; and a relay that is down or slow is reported, not hung on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/net.h"
#include "core/subprocess.h"
#include "crypto/test_util.h"
#include "mydata/notice.h"
#include "test_files.h"

namespace troad::testing {
namespace {

using namespace std::chrono_literals;

class MyDataNoticeTest : public TroadCliTest {};

TEST_F(MyDataNoticeTest, ANoticeArrivesReadableWithItsSubjectAndBody) {
  auto port = PickFreePort();
  ASSERT_TRUE(port);
  std::string maildir = (dir_ / "maildir").string();
  auto relay = Subprocess::Start(
      {crypto::testutil::Python3(), "-m", "aiosmtpd", "-n", "-l",
       "127.0.0.1:" + std::to_string(*port), "-c", "aiosmtpd.handlers.Mailbox", maildir},
      (dir_ / "smtpd.log").string());
  ASSERT_TRUE(relay) << relay.error().ToString();
  ASSERT_TRUE(WaitForPort("127.0.0.1", *port, 20s)) << ReadText((dir_ / "smtpd.log").string());

  mydata::SmtpOptions smtp;
  smtp.url = "smtp://127.0.0.1:" + std::to_string(*port);
  smtp.from = "mydata@mydata.example.tw";
  auto when = std::chrono::system_clock::from_time_t(1'790'000'000);
  auto notice = mydata::UsageNotice("lin.demo@example.tw", "示範銀行", "Demo Bank",
                                    {"戶籍資料", "健保投保資料"}, when);
  auto sent = mydata::SendEmail(smtp, notice, when);
  ASSERT_TRUE(sent) << sent.error().ToString() << ReadText((dir_ / "smtpd.log").string());

  // The Maildir is written after the relay answered; give it a moment (bounded).
  auto arrived = [&] {
    std::error_code ec;
    return std::filesystem::exists(maildir + "/new", ec) &&
           !std::filesystem::is_empty(maildir + "/new", ec);
  };
  for (int i = 0; i < 50 && !arrived(); ++i) std::this_thread::sleep_for(100ms);
  auto read = RunCommandLine(
      {crypto::testutil::Python3(), "-c",
       "import mailbox,sys,email.header; m=list(mailbox.Maildir(sys.argv[1]))[0]; "
       "print(m['To']); print(str(email.header.make_header(email.header.decode_header("
       "m['Subject'])))); print(m.get_payload(decode=True).decode('utf-8'))",
       maildir},
      (dir_ / "read.txt").string());
  ASSERT_EQ(read.status, 0) << read.output;
  EXPECT_NE(read.output.find("lin.demo@example.tw"), std::string::npos) << read.output;
  EXPECT_NE(read.output.find("MyData 個人資料使用通知：示範銀行"), std::string::npos)
      << read.output;
  EXPECT_NE(read.output.find("健保投保資料"), std::string::npos) << read.output;
  EXPECT_NE(read.output.find("Demo Bank"), std::string::npos) << read.output;
  ::kill(relay->pid(), SIGTERM);
  relay->Wait(10s);
}

TEST_F(MyDataNoticeTest, ARelayThatIsDownOrSilentIsReportedInTime) {
  auto port = PickFreePort();
  ASSERT_TRUE(port);
  mydata::SmtpOptions smtp;
  smtp.url = "smtp://127.0.0.1:" + std::to_string(*port);
  smtp.timeout = 2s;
  auto now = std::chrono::system_clock::now();
  smtp.from = "mydata@mydata.example.tw";
  auto down = mydata::SendEmail(smtp, {"a@example.tw", "s", "b"}, now);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), ErrorCode::kUnavailable) << down.error().ToString();

  // A relay that accepts the connection and never says a word.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  smtp.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto start = std::chrono::steady_clock::now();
  auto silent = mydata::SendEmail(smtp, {"a@example.tw", "s", "b"}, now);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().code(), ErrorCode::kDeadlineExceeded) << silent.error().ToString();
  EXPECT_LT(took, 20s) << "bounded by the timeout, not hung";

  auto header_injection =
      mydata::SendEmail(smtp, {"a@example.tw\r\nBcc: everyone@example.tw", "s", "b"}, now);
  ASSERT_FALSE(header_injection);
  EXPECT_EQ(header_injection.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace troad::testing
