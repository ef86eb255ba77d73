// Pairs up the token positions of two prompts so that their activations can be compared even when
// the prompts tokenise to different lengths (the Python library skips such pairs entirely).
//
// Equal lengths: position t of one prompt goes with position t of the other (the Python library's
// comparison, so its numbers are reproduced exactly).
// Different lengths: tokens equal in both prompts are matched one to one along a longest common
// subsequence of the ids; each run of differing tokens between two matches becomes one group whose
// rows are mean-pooled on each side. When the prompts differ in one place this is exactly "equal
// prefix and suffix one to one, the differing middle spans pooled". A run present on one side only
// (an inserted word) is pooled together with the next matched token (the previous one at the end),
// so that no group is empty on either side.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace optipfair {

struct AlignedGroup {
  int64_t begin1 = 0, end1 = 0;  // rows [begin1, end1) of prompt 1
  int64_t begin2 = 0, end2 = 0;  // rows [begin2, end2) of prompt 2
  bool one_to_one() const { return end1 - begin1 == 1 && end2 - begin2 == 1; }
};

enum class AlignmentMethod : uint8_t {
  Positional,  // equal lengths: row t with row t
  LcsPooled,   // different lengths: common tokens one to one, differing runs mean-pooled
};
// "positional" or "lcs_pooled", the names the JSON output uses.
const char* alignment_method_name(AlignmentMethod method);

struct TokenAlignment {
  AlignmentMethod method = AlignmentMethod::Positional;
  std::vector<AlignedGroup> groups;  // in order; one aligned row each
  int64_t len1 = 0, len2 = 0;
  int64_t prefix = 0, suffix = 0;    // equal leading / trailing tokens
  int64_t equal_rows = 0;            // one-to-one rows whose two tokens are the same id
  size_t size() const { return groups.size(); }
  // The alignment as JSON: method, lengths, prefix/suffix, and every pooled group.
  nlohmann::ordered_json to_json() const;
  // One sentence: how the rows were paired.
  std::string describe() const;
};

TokenAlignment align_tokens(std::span<const int32_t> ids1, std::span<const int32_t> ids2);

// out[g, :] = mean of rows [begin, end) of a (rows x cols, row-major) for each group; `first`
// selects the prompt-1 side of each group.
void pool_rows(const TokenAlignment& alignment, bool first, const float* a, int64_t cols, std::vector<float>& out);

}  // namespace optipfair
