// Logging: spdlog, one line of JSON per event on stderr (or plain text for people
// at a terminal). Use the TROAD_LOG_* macros or spdlog directly after InitLogging.
//
// Thread-safety: spdlog's loggers are thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "core/result.h"

namespace troad {

enum class LogFormat { kJson, kText };

// Sets the default logger: `role` names the process ("gateway", "central") in
// every line; `level` is one of trace, debug, info, warn, error, off.
Status InitLogging(std::string_view role, std::string_view level, LogFormat format);

// Escapes a string for inclusion in a JSON string literal (no quotes added).
std::string JsonEscape(std::string_view text);

}  // namespace troad
