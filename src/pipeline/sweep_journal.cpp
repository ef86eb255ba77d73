#include "pipeline/sweep_journal.h"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "util/error.h"
#include "util/json_number.h"

namespace optipfair {

namespace {

constexpr const char* kMarker = "optipfair_sweep";

// FNV-1a over every prompt and category: a journal made on other pairs is refused.
std::string pairs_digest(const std::vector<PromptPair>& pairs) {
  uint64_t h = 1469598103934665603ull;
  auto feed = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xFFu) * 1099511628211ull;  // separator: ("ab","c") differs from ("a","bc")
  };
  for (const PromptPair& p : pairs) {
    feed(p.prompt1);
    feed(p.prompt2);
    feed(p.category);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::to_string(pairs.size()) + ":" + buf;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number_from(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

// A count or index that must fit T: json_exact_int64 keeps 1e30 in an edited or damaged journal
// from becoming undefined behaviour.
template <typename T>
T integer_field(const nlohmann::json& j, const char* key) {
  const auto v = json_exact_int64(j.at(key));
  if (!v || *v < std::numeric_limits<T>::min() || *v > std::numeric_limits<T>::max())
    throw Error(std::string(key) + " is not an integer in range");
  return static_cast<T>(*v);
}

}  // namespace

nlohmann::ordered_json sweep_fingerprint(const SweepOptions& o) {
  nlohmann::ordered_json f;
  f["model"] = o.model_name;
  f["pairs"] = pairs_digest(o.pairs);
  f["eval_pairs"] = pairs_digest(o.eval_pairs);
  f["folds"] = sweep_fold_count(o);
  f["fold_seed"] = o.seed;
  f["precision"] = o.precision == Precision::Exact ? "exact" : "fast";
  std::error_code ec;
  const auto size = o.perplexity_text.empty() ? 0 : std::filesystem::file_size(o.perplexity_text, ec);
  f["perplexity_text"] = o.perplexity_text.string();
  f["perplexity_text_bytes"] = ec ? 0 : size;
  f["eval_tasks"] = o.eval.tasks;
  f["eval_limit"] = o.eval.limit;
  f["eval_num_fewshot"] = o.eval.num_fewshot;
  return f;
}

nlohmann::ordered_json sweep_row_json(const SweepRow& r) {
  nlohmann::ordered_json j;
  j["config"] = r.config.key();
  j["method"] = sweep_method_name(r.config.method);
  j["bias_weight"] = r.config.bias_weight;
  j["percentage"] = r.config.percentage;
  j["layers"] = r.config.layers.name;
  j["mode"] = prune_mode_name(r.config.mode);
  j["seed"] = r.config.seed;
  j["fold"] = r.fold;
  j["train_pairs"] = r.train_pairs;
  j["held_out_pairs"] = r.held_out_pairs;
  j["used_before"] = r.used_before;
  j["used_after"] = r.used_after;
  j["used_reduction_pct"] = number_or_null(r.used_reduction());
  j["held_out_before"] = r.held_out_before;
  j["held_out_after"] = r.held_out_after;
  j["held_out_reduction_pct"] = number_or_null(r.held_out_reduction());
  nlohmann::ordered_json cats = nlohmann::ordered_json::object();
  for (const auto& [category, before] : r.held_out_category_before) {
    const auto after = r.held_out_category_after.find(category);
    cats[category] = {{"before", before}, {"after", after == r.held_out_category_after.end() ? NAN : after->second}};
  }
  j["held_out_per_category"] = cats;
  j["perplexity_before"] = r.perplexity_before ? nlohmann::ordered_json(*r.perplexity_before) : nullptr;
  j["perplexity_after"] = r.perplexity_after ? nlohmann::ordered_json(*r.perplexity_after) : nullptr;
  j["capability_retained_pct"] = number_or_null(r.capability_retained());
  nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
  for (const TaskFigure& t : r.tasks)
    tasks.push_back({{"task", t.task}, {"metric", t.metric}, {"higher_is_better", t.higher_is_better},
                     {"bias_task", t.bias_task}, {"before", number_or_null(t.before)},
                     {"after", number_or_null(t.after)}, {"stderr_after", number_or_null(t.stderr_after)}});
  j["tasks"] = tasks;
  j["parameters"] = r.parameters;
  j["parameters_removed"] = r.parameters_removed;
  j["seconds"] = r.seconds;
  return j;
}

SweepRow sweep_row_from_json(const nlohmann::json& j, int num_layers) {
  try {
    SweepRow r;
    r.config.method = sweep_method_from_name(j.at("method").get<std::string>());
    r.config.bias_weight = j.at("bias_weight").get<double>();
    r.config.percentage = j.at("percentage").get<double>();
    r.config.layers = layer_set_from_spec(j.at("layers").get<std::string>(), num_layers);
    r.config.mode = prune_mode_from_name(j.at("mode").get<std::string>());
    r.config.seed = integer_field<int>(j, "seed");
    r.fold = integer_field<int>(j, "fold");
    r.train_pairs = integer_field<int64_t>(j, "train_pairs");
    r.held_out_pairs = integer_field<int64_t>(j, "held_out_pairs");
    r.used_before = j.at("used_before").get<double>();
    r.used_after = j.at("used_after").get<double>();
    r.held_out_before = j.at("held_out_before").get<double>();
    r.held_out_after = j.at("held_out_after").get<double>();
    for (const auto& [category, v] : j.at("held_out_per_category").items()) {
      r.held_out_category_before[category] = number_from(v.at("before"));
      r.held_out_category_after[category] = number_from(v.at("after"));
    }
    if (j.at("perplexity_before").is_number()) r.perplexity_before = j["perplexity_before"].get<double>();
    if (j.at("perplexity_after").is_number()) r.perplexity_after = j["perplexity_after"].get<double>();
    for (const auto& t : j.at("tasks"))
      r.tasks.push_back({t.at("task").get<std::string>(), t.at("metric").get<std::string>(),
                         t.at("higher_is_better").get<bool>(), t.at("bias_task").get<bool>(), number_from(t.at("before")),
                         number_from(t.at("after")), number_from(t.at("stderr_after"))});
    r.parameters = integer_field<int64_t>(j, "parameters");
    r.parameters_removed = integer_field<int64_t>(j, "parameters_removed");
    r.seconds = j.at("seconds").get<double>();
    if (j.at("config").get<std::string>() != r.config.key()) throw Error("its key does not match its settings");
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("a field is missing or of the wrong type (") + e.what() + ")");
  }
}

SweepJournal::SweepJournal(const std::filesystem::path& path, const nlohmann::ordered_json& fingerprint,
                           int num_layers)
    : path_(path) {
  if (path.empty()) return;
  std::error_code ec;
  std::string text;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read the sweep journal " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  // Only lines ending in '\n' are complete: the newline is written last, so a kill mid-write
  // leaves a tail without one, which is dropped here and measured again.
  const size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  size_t start = 0;
  int64_t line_no = 0;
  while (start < complete) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string where = path.string() + " line " + std::to_string(line_no);
    if (line_no == 1) {
      if (!j.is_object() || !j.contains(kMarker) || !j.contains("settings"))
        throw Error(path.string() + " is not a sweep journal; choose another --output-dir");
      for (const auto& [key, value] : fingerprint.items())
        if (!j["settings"].contains(key) || j["settings"][key].dump() != value.dump())
          throw Error(path.string() + " holds a sweep with other settings (" + key + " was " +
                      (j["settings"].contains(key) ? j["settings"][key].dump() : std::string("missing")) + ", now " +
                      value.dump() + "); choose another --output-dir or remove it to start over");
      continue;
    }
    if (j.is_discarded()) throw Error(where + " is not JSON");
    try {
      rows_.push_back(sweep_row_from_json(j, num_layers));
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
  }
  if (complete == 0) {
    nlohmann::ordered_json header;
    header[kMarker] = 1;
    header["settings"] = fingerprint;
    text = header.dump() + "\n";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!(out << text) || !out.flush()) throw Error("cannot write the sweep journal " + path.string());
  } else if (complete < text.size()) {
    std::filesystem::resize_file(path, complete, ec);
    if (ec) throw Error("cannot repair the sweep journal " + path.string() + ": " + ec.message());
  }
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_) throw Error("cannot append to the sweep journal " + path.string());
}

SweepJournal::~SweepJournal() {
  if (file_) std::fclose(file_);
}

void SweepJournal::append(const SweepRow& row) {
  rows_.push_back(row);
  if (!file_) return;
  const std::string line = sweep_row_json(row).dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0 ||
      ::fsync(fileno(file_)) != 0)
    throw Error("cannot append to the sweep journal " + path_.string() + " (disk full?)");
}

}  // namespace optipfair
