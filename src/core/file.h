// Reading a whole (small) file: configuration, keys, certificates, documents.
// Thread-safety: pure function.
#pragma once

#include <string>

#include "core/result.h"

namespace troad {

// The file's bytes. kNotFound when it does not exist, kIo for any other failure,
// each with the path and the system's reason.
Result<std::string> ReadFile(const std::string& path);

}  // namespace troad
