// QR codes (ISO/IEC 18004) for enrolling an authenticator app: the module matrix from
// libqrencode, and an SVG of it to put in a page.
//
// Thread-safety: pure functions (Debian's libqrencode is built with pthreads, which
// makes its encoder thread-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad::identity {

// Most bytes a QR code holds: version 40, error correction level M, 8-bit mode.
inline constexpr size_t kQrMaxBytes = 2331;
// Light modules around the symbol that readers need (ISO/IEC 18004 §6.3.8).
inline constexpr int kQrQuietZoneModules = 4;

// `text` as 8-bit data at error correction level M, in the smallest version that holds
// it: rows of modules, true = dark; a square of width 21 + 4 * (version - 1), without
// the quiet zone. kInvalidArgument when `text` is empty or longer than kQrMaxBytes.
Result<std::vector<std::vector<bool>>> QrModules(std::string_view text);

// An SVG of QrModules(text) with a light background and a 4-module quiet zone, each
// module `module_px` pixels (1 to 64) wide; the dark modules are one path of
// horizontal runs. `title` (XML-escaped) names the image for screen readers. The same
// input always gives the same bytes. Errors as QrModules, and kInvalidArgument for
// module_px.
Result<std::string> QrSvg(std::string_view text, int module_px = 4,
                          std::string_view title = "QR code");

}  // namespace troad::identity
