// The page's files, compiled into the binary from src/serve/web/ (cmake/embed_web_assets.cmake).
#pragma once
#include <string_view>

namespace optipfair {

struct WebAsset {
  std::string_view path;  // "/", "/app.js", ...
  std::string_view mime;
  std::string_view bytes;
};

// The asset served at `path`, or nullptr.
const WebAsset* web_asset_find(std::string_view path);

}  // namespace optipfair
