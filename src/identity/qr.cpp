// QR code matrices (libqrencode) and their SVG rendering.
#include "identity/qr.h"

#include <fmt/format.h>
#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <memory>

#include "core/encoding.h"

namespace troad::identity {
namespace {

constexpr int kMaxModulePx = 64;

}  // namespace

Result<std::vector<std::vector<bool>>> QrModules(std::string_view text) {
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "QR code text is empty");
  if (text.size() > kQrMaxBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "QR code text is {} bytes; a QR code holds at most {} (version 40, level M)",
                text.size(), kQrMaxBytes);
  }
  errno = 0;
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), /*version=*/0,
                        QR_ECLEVEL_M),
      &QRcode_free);
  if (code == nullptr) {
    const int error = errno;
    if (error == ERANGE) {
      return Fail(ErrorCode::kInvalidArgument, "QR code text of {} bytes is too long", text.size());
    }
    return Fail(ErrorCode::kInternal, "QR encoding failed: {}", std::strerror(error));
  }
  // Each byte of data is one module; its lowest bit says dark.
  const int width = code->width;
  std::vector<std::vector<bool>> modules(width, std::vector<bool>(width));
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) modules[y][x] = (code->data[y * width + x] & 1) != 0;
  }
  return modules;
}

Result<std::string> QrSvg(std::string_view text, int module_px, std::string_view title) {
  if (module_px < 1 || module_px > kMaxModulePx) {
    return Fail(ErrorCode::kInvalidArgument, "QR module size {} px is outside 1 to {}", module_px,
                kMaxModulePx);
  }
  TROAD_ASSIGN_OR_RETURN(const auto modules, QrModules(text));
  const int width = static_cast<int>(modules.size());
  const int size = width + 2 * kQrQuietZoneModules;
  // Coordinates are in modules (the viewBox); width and height scale them to pixels.
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" width=\"{1}\" "
      "height=\"{1}\" role=\"img\" shape-rendering=\"crispEdges\"><title>{2}</title>"
      "<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
      size, size * module_px, XmlEscape(title));
  // One subpath per horizontal run of dark modules: M x y h n v1 h-n z.
  for (int y = 0; y < width; ++y) {
    int x = 0;
    while (x < width) {
      if (!modules[y][x]) {
        ++x;
        continue;
      }
      const int start = x;
      while (x < width && modules[y][x]) ++x;
      fmt::format_to(std::back_inserter(svg), "M{} {}h{}v1h-{}z", start + kQrQuietZoneModules,
                     y + kQrQuietZoneModules, x - start, x - start);
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace troad::identity
