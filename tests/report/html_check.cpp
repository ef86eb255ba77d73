#include "html_check.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace optipfair {

std::string html_balance_problem(const std::string& html) {
  static const std::vector<std::string> kVoid = {"area", "base", "br", "col", "embed", "hr", "img",
                                                 "input", "link", "meta", "source", "track", "wbr"};
  std::vector<std::string> open;
  for (std::size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    const std::size_t end = html.find('>', i);
    if (end == std::string::npos) return "a tag is never closed with '>'";
    const std::string tag = html.substr(i + 1, end - i - 1);
    if (tag.empty()) return "an empty tag";
    if (tag[0] == '!') continue;  // doctype
    const bool closing = tag[0] == '/';
    std::size_t name_end = closing ? 1 : 0;
    while (name_end < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[name_end])))) ++name_end;
    std::string name = tag.substr(closing ? 1 : 0, name_end - (closing ? 1 : 0));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.empty()) return "a '<' that starts no tag: <" + tag.substr(0, 20);
    if (std::find(kVoid.begin(), kVoid.end(), name) != kVoid.end()) continue;
    if (!closing) {
      open.push_back(name);
    } else {
      if (open.empty()) return "</" + name + "> closes nothing";
      if (open.back() != name) return "</" + name + "> closes <" + open.back() + ">";
      open.pop_back();
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  return "";
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace optipfair
