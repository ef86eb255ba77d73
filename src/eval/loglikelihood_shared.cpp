// run_loglikelihood spread over the ranks of an MPI run. Each rank computes the same partition
// from the requests, scores its share with the ordinary runner, and all_gather brings every
// rank's results to every rank, so the tasks' metrics are computed identically everywhere.
#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>

#include "eval/loglikelihood.h"
#include "util/error.h"

namespace optipfair {

namespace {

// Request indices per rank: groups of equal context, largest first, each to the rank with the
// fewest tokens so far (the lowest rank on a tie).
std::vector<std::vector<size_t>> share_requests(const std::vector<LoglikelihoodRequest>& requests, int ranks) {
  std::vector<std::vector<size_t>> groups;
  std::vector<int64_t> cost;
  std::map<std::vector<int32_t>, size_t> index;
  for (size_t r = 0; r < requests.size(); ++r) {
    auto [it, fresh] = index.try_emplace(requests[r].context, groups.size());
    if (fresh) {
      groups.emplace_back();
      cost.push_back(static_cast<int64_t>(requests[r].context.size()));
    }
    groups[it->second].push_back(r);
    cost[it->second] += static_cast<int64_t>(requests[r].continuation.size());
  }
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<int64_t> load(static_cast<size_t>(ranks), 0);
  std::vector<std::vector<size_t>> shares(static_cast<size_t>(ranks));
  for (size_t g : order) {
    const size_t rank = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[rank] += cost[g];
    shares[rank].insert(shares[rank].end(), groups[g].begin(), groups[g].end());
  }
  for (auto& s : shares) std::sort(s.begin(), s.end());  // each rank scores its share in request order
  return shares;
}

constexpr size_t kRecordBytes = sizeof(double) + 1 + sizeof(int64_t);

}  // namespace

std::vector<LoglikelihoodResult> run_loglikelihood_shared(const Model& model,
                                                          const std::vector<LoglikelihoodRequest>& requests,
                                                          const LoglikelihoodOptions& options) {
  const RequestSharing& sharing = *options.sharing;
  if (sharing.rank < 0 || sharing.rank >= sharing.size || !sharing.all_gather)
    throw Error("request sharing needs a rank below its size and a way to gather results");
  const std::vector<std::vector<size_t>> shares = share_requests(requests, sharing.size);
  const std::vector<size_t>& mine = shares[static_cast<size_t>(sharing.rank)];

  std::vector<LoglikelihoodRequest> subset;
  subset.reserve(mine.size());
  for (size_t i : mine) subset.push_back(requests[i]);
  LoglikelihoodOptions local = options;
  local.sharing = nullptr;
  local.log = nullptr;
  const std::vector<LoglikelihoodResult> scored = subset.empty() ? std::vector<LoglikelihoodResult>{}
                                                                 : run_loglikelihood(model, subset, local);

  std::string bytes(scored.size() * kRecordBytes, '\0');
  for (size_t k = 0; k < scored.size(); ++k) {
    char* p = bytes.data() + k * kRecordBytes;
    std::memcpy(p, &scored[k].logprob, sizeof(double));
    p[sizeof(double)] = scored[k].is_greedy ? 1 : 0;
    std::memcpy(p + sizeof(double) + 1, &scored[k].tokens, sizeof(int64_t));
  }
  const std::vector<std::string> all = sharing.all_gather(bytes);
  if (all.size() != shares.size()) throw Error("gathering the ranks' results returned the wrong number of ranks");

  std::vector<LoglikelihoodResult> results(requests.size());
  for (size_t r = 0; r < shares.size(); ++r) {
    if (all[r].size() != shares[r].size() * kRecordBytes)
      throw Error("rank " + std::to_string(r) + " sent results for a different share of the requests");
    for (size_t k = 0; k < shares[r].size(); ++k) {
      const char* p = all[r].data() + k * kRecordBytes;
      LoglikelihoodResult& out = results[shares[r][k]];
      std::memcpy(&out.logprob, p, sizeof(double));
      out.is_greedy = p[sizeof(double)] != 0;
      std::memcpy(&out.tokens, p + sizeof(double) + 1, sizeof(int64_t));
    }
  }
  if (options.log) {
    options.log->requests.insert(options.log->requests.end(), requests.begin(), requests.end());
    options.log->results.insert(options.log->results.end(), results.begin(), results.end());
  }
  return results;
}

}  // namespace optipfair
