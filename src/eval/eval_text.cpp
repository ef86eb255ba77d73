#include "eval/eval_text.h"

namespace optipfair {

namespace {

// Decodes the code point starting at s[i]; *len receives its byte length. Invalid bytes decode
// as themselves with length 1 (they are never whitespace, which is all that matters here).
char32_t decode_at(std::string_view s, size_t i, size_t* len) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    *len = 1;
    return 0xFFFD;
  }
  char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 0x2) {
      *len = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  *len = n;
  return cp;
}

// Byte length of the whitespace run at the start of s.
size_t leading_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t n = 0;
    if (!python_isspace(decode_at(s, i, &n))) break;
    i += n;
  }
  return i;
}

// Byte length of s without its trailing whitespace.
size_t without_trailing_space(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    size_t n = 0;
    const char32_t cp = decode_at(s, start, &n);
    if (start + n != end) {  // not a whole code point: the last byte alone is not whitespace
      break;
    }
    if (!python_isspace(cp)) break;
    end = start;
  }
  return end;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

// re.sub(open \s*([^close]*?)\s* close, open \1 close): each opening mark up to the next closing
// mark has the whitespace just inside the pair removed. Where no closing mark follows, the opening
// mark is left alone.
std::string tighten_pairs(std::string_view s, char open, char close) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == open) {
      const size_t end = s.find(close, i + 1);
      if (end != std::string_view::npos) {
        std::string_view inner = s.substr(i + 1, end - i - 1);
        out += open;
        out += python_strip(inner);
        out += close;
        i = end + 1;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

}  // namespace

bool python_isspace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

std::string python_rstrip(std::string_view s) { return std::string(s.substr(0, without_trailing_space(s))); }

std::string python_strip(std::string_view s) {
  const size_t begin = leading_space(s);
  return python_rstrip(s.substr(begin));
}

int64_t utf8_length(std::string_view s) {
  int64_t count = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = 0;
    decode_at(s, i, &n);
    i += n;
    ++count;
  }
  return count;
}

int64_t count_words_python(std::string_view s) {
  int64_t runs = 0;
  bool in_space = false;
  for (size_t i = 0; i < s.size();) {
    size_t n = 0;
    const bool space = python_isspace(decode_at(s, i, &n));
    if (space && !in_space) ++runs;
    in_space = space;
    i += n;
  }
  return runs + 1;
}

std::string wikitext_detokenize(std::string_view page) {
  std::string s(page);
  // contractions
  replace_all(s, "s '", "s'");
  {  // re.sub(r"/' [0-9]/", r"/'[0-9]/"): the replacement is literal text in lm-eval's code
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      if (i + 5 <= s.size() && s.compare(i, 3, "/' ") == 0 && s[i + 3] >= '0' && s[i + 3] <= '9' && s[i + 4] == '/') {
        out += "/'[0-9]/";
        i += 5;
      } else {
        out += s[i++];
      }
    }
    s = std::move(out);
  }
  // number separators
  replace_all(s, " @-@ ", "-");
  replace_all(s, " @,@ ", ",");
  replace_all(s, " @.@ ", ".");
  // punctuation
  replace_all(s, " : ", ": ");
  replace_all(s, " ; ", "; ");
  replace_all(s, " . ", ". ");
  replace_all(s, " ! ", "! ");
  replace_all(s, " ? ", "? ");
  replace_all(s, " , ", ", ");
  // double brackets
  s = tighten_pairs(s, '(', ')');
  s = tighten_pairs(s, '[', ']');
  s = tighten_pairs(s, '{', '}');
  s = tighten_pairs(s, '"', '"');
  s = tighten_pairs(s, '\'', '\'');
  // miscellaneous
  replace_all(s, "= = = =", "====");
  replace_all(s, "= = =", "===");
  replace_all(s, "= =", "==");
  replace_all(s, " \xC2\xB0 ", "\xC2\xB0");  // chr(176), the degree sign
  replace_all(s, " \n", "\n");
  replace_all(s, "\n ", "\n");
  replace_all(s, " N ", " 1 ");
  replace_all(s, " 's", "'s");
  return s;
}

std::vector<std::string> wikitext_split_documents(std::string_view raw) {
  std::vector<std::string> pages;
  std::vector<std::string_view> lines;
  for (size_t pos = 0;;) {
    const size_t nl = raw.find('\n', pos);
    lines.push_back(raw.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  auto join = [](const std::vector<std::string_view>& ls) {
    std::string page;
    for (size_t i = 0; i < ls.size(); ++i) {
      if (i) page += '\n';
      page += ls[i];
    }
    return page;
  };
  std::vector<std::string_view> current;
  for (std::string_view line : lines) {
    std::string r(line);
    replace_all(r, "= = =", "===");
    replace_all(r, "= =", "==");
    r = python_strip(r);
    const bool heading = r.size() >= 2 && r.compare(0, 2, "= ") == 0 && r.size() >= 2 &&
                         r.compare(r.size() - 2, 2, " =") == 0;
    if (heading) {
      std::string page = join(current);
      if (!python_strip(page).empty()) pages.push_back(std::move(page));
      current.clear();
    }
    current.push_back(line);
  }
  pages.push_back(join(current));
  return pages;
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text, int64_t* bad_row) {
  std::vector<std::vector<std::string>> rows;
  if (bad_row) *bad_row = 0;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  int64_t line = 1, row_line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      rows.push_back(std::move(row));
      row.clear();
      ++line;
      row_line = line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted && bad_row) *bad_row = row_line;
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace optipfair
