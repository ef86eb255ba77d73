#include "browser_check.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace optipfair::test {

namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string chromium_path() {
  const char* env = std::getenv("OPTIPFAIR_CHROMIUM");
  if (env && *env) return env;
  return "/usr/bin/chromium";
}

BrowserResult browser_load(const std::filesystem::path& html_file, const ScratchDir& scratch,
                           const std::string& tag) {
  const auto dom = scratch / (tag + ".dom.html");
  const auto log = scratch / (tag + ".log");
  const auto profile = scratch / (tag + "-profile");
  const std::string command =
      "( timeout 120 " + chromium_path() +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --user-data-dir=" + profile.string() +
      " --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom 'file://" + html_file.string() + "' > '" +
      dom.string() + "' 2> '" + log.string() + "' )";
  BrowserResult result;
  std::string ignored;
  result.status = run_command(command, &ignored);
  result.dom = read_all(dom);
  result.log = read_all(log);
  return result;
}

std::string console_lines(const std::string& log) {
  std::string out;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos) out += line + "\n";
    start = end + 1;
  }
  return out;
}

std::filesystem::path with_image_probe(const std::string& html, const std::filesystem::path& path) {
  std::string probed = html;
  const std::string policy = "default-src 'none';";
  const auto at = probed.find(policy);
  if (at != std::string::npos) probed.replace(at, policy.size(), "default-src 'none'; script-src 'unsafe-inline';");
  const std::string probe =
      "<script>window.addEventListener('load', () => { const imgs = [...document.images];"
      " document.body.setAttribute('data-figures', imgs.filter(i => i.complete && i.naturalWidth > 0).length"
      " + '/' + imgs.length); });</script>\n";
  probed.insert(probed.rfind("</body>"), probe);
  std::ofstream(path, std::ios::binary) << probed;
  return path;
}

}  // namespace optipfair::test
