#include "core/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace troad {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, "cannot open {}: {}", path,
                std::strerror(err));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Fail(ErrorCode::kIo, "cannot read {}", path);
  return std::move(buf).str();
}

}  // namespace troad
