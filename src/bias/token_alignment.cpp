#include "bias/token_alignment.h"

#include <algorithm>

namespace optipfair {

const char* alignment_method_name(AlignmentMethod method) {
  return method == AlignmentMethod::Positional ? "positional" : "lcs_pooled";
}

TokenAlignment align_tokens(std::span<const int32_t> ids1, std::span<const int32_t> ids2) {
  TokenAlignment al;
  const int64_t n1 = static_cast<int64_t>(ids1.size()), n2 = static_cast<int64_t>(ids2.size());
  al.len1 = n1;
  al.len2 = n2;
  while (al.prefix < std::min(n1, n2) && ids1[al.prefix] == ids2[al.prefix]) ++al.prefix;
  while (al.suffix < std::min(n1, n2) - al.prefix && ids1[n1 - 1 - al.suffix] == ids2[n2 - 1 - al.suffix]) ++al.suffix;
  if (n1 == n2) {
    al.method = AlignmentMethod::Positional;
    for (int64_t t = 0; t < n1; ++t) {
      al.groups.push_back({t, t + 1, t, t + 1});
      al.equal_rows += ids1[t] == ids2[t] ? 1 : 0;
    }
    return al;
  }
  al.method = AlignmentMethod::LcsPooled;
  // Longest common subsequence table over the whole sequences (prompts are short).
  std::vector<int32_t> L(static_cast<size_t>((n1 + 1) * (n2 + 1)), 0);
  auto at = [&](int64_t i, int64_t j) -> int32_t& { return L[static_cast<size_t>(i * (n2 + 1) + j)]; };
  for (int64_t i = n1 - 1; i >= 0; --i)
    for (int64_t j = n2 - 1; j >= 0; --j)
      at(i, j) = ids1[i] == ids2[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  std::vector<std::pair<int64_t, int64_t>> matches;
  for (int64_t i = 0, j = 0; i < n1 && j < n2;) {
    if (ids1[i] == ids2[j] && at(i, j) == at(i + 1, j + 1) + 1) {
      matches.emplace_back(i, j);
      ++i;
      ++j;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
  // Groups: an unmatched run pair between matches, then the match itself.
  std::vector<AlignedGroup> raw;
  int64_t i = 0, j = 0;
  for (auto [mi, mj] : matches) {
    if (mi > i || mj > j) raw.push_back({i, mi, j, mj});
    raw.push_back({mi, mi + 1, mj, mj + 1});
    i = mi + 1;
    j = mj + 1;
  }
  if (i < n1 || j < n2) raw.push_back({i, n1, j, n2});
  // Merge one-sided runs into a neighbour so both sides of every group hold rows.
  for (size_t g = 0; g < raw.size(); ++g) {
    AlignedGroup cur = raw[g];
    const bool empty1 = cur.end1 == cur.begin1, empty2 = cur.end2 == cur.begin2;
    if (!empty1 && !empty2) {
      al.groups.push_back(cur);
      continue;
    }
    if (g + 1 < raw.size()) {  // absorb into the next group
      raw[g + 1].begin1 = cur.begin1;
      raw[g + 1].begin2 = cur.begin2;
    } else if (!al.groups.empty()) {  // at the end: absorb into the previous one
      al.groups.back().end1 = cur.end1;
      al.groups.back().end2 = cur.end2;
    } else {  // one prompt has no tokens at all; nothing to pair (the caller rejects empty prompts)
      al.groups.push_back(cur);
    }
  }
  for (const AlignedGroup& g : al.groups)
    if (g.one_to_one() && ids1[g.begin1] == ids2[g.begin2]) ++al.equal_rows;
  return al;
}

void pool_rows(const TokenAlignment& alignment, bool first, const float* a, int64_t cols, std::vector<float>& out) {
  out.assign(alignment.groups.size() * static_cast<size_t>(cols), 0.0f);
  for (size_t g = 0; g < alignment.groups.size(); ++g) {
    const AlignedGroup& gr = alignment.groups[g];
    const int64_t b = first ? gr.begin1 : gr.begin2, e = first ? gr.end1 : gr.end2;
    float* dst = out.data() + g * static_cast<size_t>(cols);
    if (e - b == 1) {
      std::copy(a + b * cols, a + (b + 1) * cols, dst);
      continue;
    }
    std::vector<double> acc(static_cast<size_t>(cols), 0.0);
    for (int64_t r = b; r < e; ++r)
      for (int64_t c = 0; c < cols; ++c) acc[static_cast<size_t>(c)] += a[r * cols + c];
    const double inv = e > b ? 1.0 / static_cast<double>(e - b) : 0.0;
    for (int64_t c = 0; c < cols; ++c) dst[c] = static_cast<float>(acc[static_cast<size_t>(c)] * inv);
  }
}

nlohmann::ordered_json TokenAlignment::to_json() const {
  nlohmann::ordered_json j;
  j["method"] = alignment_method_name(method);
  j["tokens1"] = len1;
  j["tokens2"] = len2;
  j["aligned_rows"] = groups.size();
  j["equal_prefix_tokens"] = prefix;
  j["equal_suffix_tokens"] = suffix;
  j["equal_rows"] = equal_rows;
  nlohmann::ordered_json pooled = nlohmann::ordered_json::array();
  for (size_t g = 0; g < groups.size(); ++g) {
    const AlignedGroup& gr = groups[g];
    if (gr.one_to_one()) continue;
    pooled.push_back({{"row", g}, {"prompt1_tokens", {gr.begin1, gr.end1}}, {"prompt2_tokens", {gr.begin2, gr.end2}}});
  }
  j["pooled_groups"] = pooled;
  j["description"] = describe();
  return j;
}

std::string TokenAlignment::describe() const {
  if (method == AlignmentMethod::Positional)
    return "equal lengths (" + std::to_string(len1) + " tokens): token t of prompt 1 compared with token t of prompt 2";
  size_t pooled = 0;
  for (const auto& g : groups) pooled += g.one_to_one() ? 0 : 1;
  const size_t differing_single = groups.size() - pooled - static_cast<size_t>(equal_rows);
  std::string s = "different lengths (" + std::to_string(len1) + " vs " + std::to_string(len2) + " tokens): " +
                  std::to_string(equal_rows) + " equal tokens paired one to one, ";
  if (differing_single) s += std::to_string(differing_single) + " differing single tokens paired one to one, ";
  return s + std::to_string(pooled) + " differing span(s) mean-pooled on each side, " + std::to_string(groups.size()) +
         " aligned rows";
}

}  // namespace optipfair
