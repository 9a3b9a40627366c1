#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace troad::cli {

ProgressBar::ProgressBar(const char* unit) : unit_(unit), tty_(isatty(STDERR_FILENO) != 0) {}

void ProgressBar::Update(int64_t done, int64_t total) {
  if (!tty_ || total <= 0) return;
  const int64_t percent = std::min<int64_t>(done * 100 / total, 100);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  const int width = 40;
  const int filled = static_cast<int>(percent * width / 100);
  std::fprintf(stderr, "\r[%.*s%*s] %3lld %%  %lld / %lld %s", filled,
               "========================================", width - filled, "",
               static_cast<long long>(percent), static_cast<long long>(done),
               static_cast<long long>(total), unit_);
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (tty_ && last_percent_ >= 0) std::fprintf(stderr, "\n");
  last_percent_ = -1;
}

}  // namespace troad::cli
