// A report as a reader meets it: loaded by Debian's headless Chromium, offline, in a fresh
// profile. Shared by the report tests and the sweep's. OPTIPFAIR_CHROMIUM overrides the binary.
#pragma once
#include <filesystem>
#include <string>

#include "test_support.h"

namespace optipfair::test {

std::string chromium_path();

struct BrowserResult {
  int status = -1;
  std::string dom;
  std::string log;
};

// Loads `html_file` headless with no background traffic; `tag` names the scratch files.
BrowserResult browser_load(const std::filesystem::path& html_file, const ScratchDir& scratch, const std::string& tag);

// The console messages in a browser log ("...:CONSOLE:<line>] ..."), one a line.
std::string console_lines(const std::string& log);

// Writes a copy of `html` to `path` with a script (allowed by a relaxed policy) that records on
// <body data-figures="decoded/total"> how many images decoded to a real size after load.
std::filesystem::path with_image_probe(const std::string& html, const std::filesystem::path& path);

}  // namespace optipfair::test
