// A progress bar on standard error for the operators' long checks (verify-log,
// verify-ledger): "[=====     ]  42 %  n / m records", drawn only when standard error
// is a terminal, so logs and pipes get none.
//
// Thread-safety: one thread.
#pragma once

#include <cstdint>

namespace troad::cli {

class ProgressBar {
 public:
  explicit ProgressBar(const char* unit);
  ~ProgressBar() { Finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Redraws when the whole percentage changed.
  void Update(int64_t done, int64_t total);
  // Ends the bar's line, once.
  void Finish();

 private:
  const char* unit_;
  const bool tty_;
  int64_t last_percent_ = -1;
};

}  // namespace troad::cli
