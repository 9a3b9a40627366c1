// Reading and durably replacing whole (small) files: configuration, keys, certificates,
// documents.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace troad {

// The file's bytes. kNotFound when it does not exist, kIo for any other failure,
// each with the path and the system's reason.
Result<std::string> ReadFile(const std::string& path);

// Replaces `path` with `contents` so that a reader (or a restart after a crash) sees the
// old file or the whole new one: a temporary file beside it, written, fsynced and
// renamed over it, then the directory fsynced. `mode` as chmod (0600 for keys).
// kIo with the step, the path and the system's reason.
Status WriteFileAtomically(const std::string& path, std::string_view contents,
                           unsigned mode = 0644);
// fsync of a directory: makes renames and creations inside it durable.
Status SyncDirectory(const std::string& dir);

}  // namespace troad
