// Small file helpers the integration tests share: whole-file reads and writes for
// configuration files, logs and command output, and the end of a long log for a
// failure message. Test-only; the product uses core/file.h.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace troad::testing {

// The file's contents; "" when it cannot be read (the assertions using it then fail).
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Replaces the file's contents; a failure fails the calling test.
inline void WriteText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  ASSERT_TRUE(out.flush()) << "cannot write " << path;
}

// The last `max` bytes of `text` (all of it when shorter).
inline std::string TailBytes(const std::string& text, size_t max = 4000) {
  return text.size() <= max ? text : text.substr(text.size() - max);
}

}  // namespace troad::testing
