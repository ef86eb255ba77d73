#include "pipeline/sweep_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bias/bias_summary.h"
#include "util/error.h"

namespace optipfair {

namespace {

const char* metric_name(TargetMetric m) {
  switch (m) {
    case TargetMetric::Capability: return "capability";
    case TargetMetric::HeldOutReduction: return "held_out_reduction";
    case TargetMetric::UsedReduction: return "used_reduction";
    case TargetMetric::ParametersRemoved: return "parameters_removed";
  }
  return "?";
}

double metric_value(const SweepPoint& p, TargetMetric m) {
  switch (m) {
    case TargetMetric::Capability: return p.capability.mean;
    case TargetMetric::HeldOutReduction: return p.held_out_reduction.mean;
    case TargetMetric::UsedReduction: return p.used_reduction.mean;
    case TargetMetric::ParametersRemoved: return p.parameters_removed_pct;
  }
  return NAN;
}

bool meets(const SweepPoint& p, const SweepTarget& t) {
  const double v = metric_value(p, t.metric);
  if (!std::isfinite(v)) return false;
  switch (t.op) {
    case TargetOp::AtLeast: return v >= t.value;
    case TargetOp::AtMost: return v <= t.value;
    case TargetOp::Above: return v > t.value;
    case TargetOp::Below: return v < t.value;
  }
  return false;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string pm(const MeanSd& m) { return fmt("%+.2f", m.mean) + " ± " + fmt("%.2f", m.sd) + " %"; }

// "capability 98.10 %" or nothing when capability was not measured.
std::string capability_text(const SweepPoint& p) {
  return std::isfinite(p.capability.mean) ? ", capability retained " + fmt("%.2f", p.capability.mean) + " %" : "";
}

}  // namespace

MeanSd mean_sd(const std::vector<double>& values) {
  MeanSd m;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++m.n;
    }
  if (m.n == 0) {
    m.mean = m.sd = NAN;
    return m;
  }
  m.mean = sum / m.n;
  double ss = 0;
  for (double v : values)
    if (std::isfinite(v)) ss += (v - m.mean) * (v - m.mean);
  m.sd = m.n > 1 ? std::sqrt(ss / (m.n - 1)) : 0;
  return m;
}

SweepTarget sweep_target_parse(const std::string& text) {
  std::string s;
  for (char c : text)
    if (c != ' ' && c != '\t') s += c;
  const size_t op = s.find_first_of("<>=");
  if (op == std::string::npos || op == 0)
    throw Error("cannot read the target \"" + text + "\" (expected e.g. capability>=95)");
  SweepTarget t;
  t.text = text;
  const std::string name = s.substr(0, op);
  const std::vector<std::pair<std::string, TargetMetric>> metrics{
      {"capability", TargetMetric::Capability},
      {"held_out_reduction", TargetMetric::HeldOutReduction},
      {"used_reduction", TargetMetric::UsedReduction},
      {"parameters_removed", TargetMetric::ParametersRemoved}};
  bool known = false;
  for (const auto& [n, m] : metrics)
    if (n == name) {
      t.metric = m;
      known = true;
    }
  if (!known)
    throw Error("unknown target metric \"" + name +
                "\" (expected capability, held_out_reduction, used_reduction or parameters_removed)");
  std::string rest = s.substr(op);
  const std::vector<std::pair<std::string, TargetOp>> ops{
      {">=", TargetOp::AtLeast}, {"<=", TargetOp::AtMost}, {">", TargetOp::Above}, {"<", TargetOp::Below}};
  bool matched = false;
  for (const auto& [o, e] : ops)
    if (rest.rfind(o, 0) == 0) {
      t.op = e;
      rest = rest.substr(o.size());
      matched = true;
      break;
    }
  char* end = nullptr;
  t.value = rest.empty() ? NAN : std::strtod(rest.c_str(), &end);
  if (!matched || rest.empty() || end != rest.c_str() + rest.size() || !std::isfinite(t.value))
    throw Error("cannot read the target \"" + text + "\" (expected e.g. capability>=95)");
  return t;
}

SweepSummary sweep_summarize(const SweepResult& result, const std::optional<SweepTarget>& target) {
  SweepSummary s;
  s.target = target;
  std::map<std::string, size_t> index;
  std::vector<std::vector<const SweepRow*>> members;
  for (const SweepConfig& c : result.configs)
    if (index.emplace(c.group(), s.points.size()).second) {
      SweepPoint p;
      p.group = c.group();
      p.config = c;
      s.points.push_back(p);
      members.emplace_back();
    }
  for (const SweepRow& r : result.rows) {
    const auto it = index.find(r.config.group());
    if (it != index.end()) members[it->second].push_back(&r);
  }
  bool tasks = false, perplexity = false;
  for (size_t i = 0; i < s.points.size(); ++i) {
    SweepPoint& p = s.points[i];
    std::vector<double> held, used, cap, removed;
    std::map<std::string, std::vector<double>> cats;
    for (const SweepRow* r : members[i]) {
      held.push_back(r->held_out_reduction());
      used.push_back(r->used_reduction());
      cap.push_back(r->capability_retained());
      removed.push_back(r->parameters > 0 ? 100.0 * static_cast<double>(r->parameters_removed) / static_cast<double>(r->parameters) : NAN);
      for (const auto& [category, before] : r->held_out_category_before) {
        const auto after = r->held_out_category_after.find(category);
        if (after != r->held_out_category_after.end())
          cats[category].push_back(-percent_change(before, after->second));
      }
      for (const TaskFigure& t : r->tasks) tasks = tasks || !t.bias_task;
      perplexity = perplexity || r->perplexity_after.has_value();
    }
    p.rows = static_cast<int>(members[i].size());
    p.held_out_reduction = mean_sd(held);
    p.used_reduction = mean_sd(used);
    p.capability = mean_sd(cap);
    p.parameters_removed_pct = mean_sd(removed).mean;
    for (const auto& [category, v] : cats) p.held_out_category_reduction[category] = mean_sd(v);
  }
  s.capability_measure = tasks        ? "mean ratio pruned / original of the capability tasks' headline metrics"
                         : perplexity ? "token perplexity of the original / of the pruned model on the perplexity text"
                                      : "not measured (give --perplexity-text or --eval-tasks)";

  // Pareto front: maximise both held-out reduction and capability (a missing capability counts as
  // equal for every point, so such a sweep ranks on reduction alone).
  auto cap_of = [](const SweepPoint& p) { return std::isfinite(p.capability.mean) ? p.capability.mean : 0.0; };
  for (SweepPoint& p : s.points) {
    if (!std::isfinite(p.held_out_reduction.mean)) continue;
    p.pareto = true;
    for (const SweepPoint& q : s.points) {
      if (&q == &p || !std::isfinite(q.held_out_reduction.mean)) continue;
      const bool geq = q.held_out_reduction.mean >= p.held_out_reduction.mean && cap_of(q) >= cap_of(p);
      const bool gt = q.held_out_reduction.mean > p.held_out_reduction.mean || cap_of(q) > cap_of(p);
      if (geq && gt) {
        p.pareto = false;
        break;
      }
    }
  }

  for (size_t i = 0; i < s.points.size(); ++i) {
    const SweepPoint& p = s.points[i];
    if (!std::isfinite(p.held_out_reduction.mean) || (target && !meets(p, *target))) continue;
    if (!s.best || p.held_out_reduction.mean > s.points[*s.best].held_out_reduction.mean) s.best = i;
    const bool fairness = p.config.method == SweepMethod::Hybrid || p.config.method == SweepMethod::Bias;
    if (fairness && (!s.best_fairness || p.held_out_reduction.mean > s.points[*s.best_fairness].held_out_reduction.mean))
      s.best_fairness = i;
  }
  const std::string condition = target ? " meeting " + target->text : "";
  if (!s.best) {
    s.answer = target ? "No configuration meets " + target->text + "." : "No configuration was measured.";
    return s;
  }
  const SweepPoint& b = s.points[*s.best];
  s.answer = "Best held-out bias reduction" + condition + ": " + b.group + ", " + pm(b.held_out_reduction) +
             " over " + std::to_string(b.rows) + " fold(s) (on the pairs used: " + pm(b.used_reduction) + ")" +
             capability_text(b) + ".";
  for (const SweepPoint& q : s.points)
    if (q.config.method == SweepMethod::Random && b.config.method != SweepMethod::Random &&
        q.config.percentage == b.config.percentage && q.config.layers.name == b.config.layers.name &&
        q.config.mode == b.config.mode)
      s.answer += " Random pruning of the same size: " + pm(q.held_out_reduction) + " over " +
                  std::to_string(q.rows) + " seed-folds.";
  return s;
}

nlohmann::ordered_json sweep_summary_json(const SweepSummary& s) {
  nlohmann::ordered_json j;
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  auto ms = [&](const MeanSd& m) { return nlohmann::ordered_json{{"mean", num(m.mean)}, {"sd", num(m.sd)}, {"n", m.n}}; };
  j["capability_measure"] = s.capability_measure;
  j["target"] = s.target ? nlohmann::ordered_json(s.target->text) : nlohmann::ordered_json(nullptr);
  j["target_metric"] = s.target ? nlohmann::ordered_json(metric_name(s.target->metric)) : nlohmann::ordered_json(nullptr);
  j["answer"] = s.answer;
  j["best"] = s.best ? nlohmann::ordered_json(s.points[*s.best].group) : nlohmann::ordered_json(nullptr);
  j["best_fairness"] =
      s.best_fairness ? nlohmann::ordered_json(s.points[*s.best_fairness].group) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const SweepPoint& p : s.points) {
    nlohmann::ordered_json o;
    o["config"] = p.group;
    o["method"] = sweep_method_name(p.config.method);
    o["bias_weight"] = p.config.bias_weight;
    o["percentage"] = p.config.percentage;
    o["layers"] = p.config.layers.name;
    o["mode"] = prune_mode_name(p.config.mode);
    o["rows"] = p.rows;
    o["held_out_reduction_pct"] = ms(p.held_out_reduction);
    o["used_reduction_pct"] = ms(p.used_reduction);
    o["capability_retained_pct"] = ms(p.capability);
    o["parameters_removed_pct"] = num(p.parameters_removed_pct);
    nlohmann::ordered_json cats = nlohmann::ordered_json::object();
    for (const auto& [category, m] : p.held_out_category_reduction) cats[category] = ms(m);
    o["held_out_category_reduction_pct"] = cats;
    o["pareto"] = p.pareto;
    points.push_back(o);
  }
  j["points"] = points;
  return j;
}

}  // namespace optipfair
