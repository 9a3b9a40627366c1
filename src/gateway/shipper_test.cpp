#include "gateway/shipper.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "ledger/entry.h"
#include "ledger/merkle.h"

namespace troad::gateway {
namespace {

TransferRecord SampleRecord(int64_t seq) {
  TransferRecord r;
  r.seq = seq;
  r.side = "consumer";
  r.message_id = "TW-msg-" + std::to_string(seq);
  r.request_id = "0190a3b4-0000-7000-8000-00000000000" + std::to_string(seq % 10);
  r.client = "TW/GOV/00000002/LI";
  r.service = "TW/GOV/00000001/HR/household";
  r.user_id = "TW-clerk-synthetic-7";
  r.issue = "case 2026-123";
  r.peer = "TW/GOV/00000001/gw1";
  r.request_time_ms = 1767225600000 + seq;
  r.response_time_ms = 1767225600012 + seq;
  r.status = 200;
  return r;
}

TEST(LedgerEntryOfTest, CarriesTheLinksAndCommitsToTheRestWithoutDisclosingIt) {
  const GatewayId gw = *GatewayId::Parse("TW/GOV/00000002/gw1");
  const TransferRecord r = SampleRecord(7);
  auto bytes = LedgerEntryOf(gw, r);
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  auto e = ledger::ParseLedgerEntry(*bytes);
  ASSERT_TRUE(e) << e.error().ToString();
  EXPECT_EQ(e->gateway, "TW/GOV/00000002/gw1");
  EXPECT_EQ(e->seq, 7);
  EXPECT_EQ(e->message_id, r.message_id);
  EXPECT_EQ(e->request_id, r.request_id);
  EXPECT_EQ(e->record, HexEncode(ledger::LeafHash(RecordEntry(r))));
  // The user id and the issue are not in the entry, only committed to by `record`.
  EXPECT_EQ(bytes->find("TW-clerk-synthetic-7"), std::string::npos);
  EXPECT_EQ(bytes->find("case 2026-123"), std::string::npos);
  TransferRecord changed = r;
  changed.user_id = "TW-clerk-synthetic-8";
  EXPECT_NE(*LedgerEntryOf(gw, changed), *bytes);
}

TEST(LedgerEntryOfTest, ARefusedRequestsGarbageStillMakesAnEntry) {
  const GatewayId gw = *GatewayId::Parse("TW/GOV/00000002/gw1");
  TransferRecord r = SampleRecord(8);
  r.client = std::string("TW/\x01\xff/") + std::string(600, 'x');
  r.fault = "Client.BadRequest";
  r.status = 400;
  auto bytes = LedgerEntryOf(gw, r);
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  EXPECT_TRUE(ledger::ParseLedgerEntry(*bytes));
}

}  // namespace
}  // namespace troad::gateway
