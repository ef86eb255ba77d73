#include "bias/bias_plots.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <numeric>

#include "bias/pca.h"
#include "util/error.h"

namespace optipfair {

namespace {

// Components drawn as bars and heatmaps, and those drawn as PCA, as the Python library does.
constexpr Component kBarComponents[] = {Component::MlpOutput, Component::AttentionOutput, Component::GateProj,
                                        Component::UpProj};
constexpr Component kPcaComponents[] = {Component::MlpOutput, Component::AttentionOutput};

std::string pair_caption(const PairAnalysis& p) {
  std::string c = "Prompt pair: \"" + p.pair.prompt1 + "\" vs \"" + p.pair.prompt2 + "\"";
  if (!p.equal_length) c += "\n" + p.alignment.describe();
  if (p.identical) c += "\nThe prompts are identical: every difference is 0.";
  return c;
}

bool analysed(const BiasAnalysis& a, Component c) {
  return std::find(a.components.begin(), a.components.end(), c) != a.components.end();
}

std::string group_label(const PairAnalysis& p, const AlignedGroup& g) {
  auto join = [](const std::vector<std::string>& toks, int64_t b, int64_t e) {
    std::string s;
    for (int64_t i = b; i < e; ++i) s += toks[static_cast<size_t>(i)];
    return s;
  };
  const std::string a = join(p.tokens1, g.begin1, g.end1), b = join(p.tokens2, g.begin2, g.end2);
  return a == b ? a : a + "/" + b;  // no spaces: labels show whitespace visibly
}

bool group_differs(const PairAnalysis& p, const AlignedGroup& g) {
  if (g.end1 - g.begin1 != g.end2 - g.begin2) return true;
  for (int64_t i = 0; i < g.end1 - g.begin1; ++i)
    if (p.ids1[static_cast<size_t>(g.begin1 + i)] != p.ids2[static_cast<size_t>(g.begin2 + i)]) return true;
  return false;
}

std::string file_name(const std::string& stem, ImageFormat f) { return stem + std::string(image_format_extension(f)); }

}  // namespace

void parse_plot_kinds(const std::string& spec, BiasPlotOptions& o) {
  o.mean_diff = o.heatmap = o.pca = false;
  if (spec == "none" || spec.empty()) return;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string k = spec.substr(start, end - start);
    if (k == "mean_diff") o.mean_diff = true;
    else if (k == "heatmap") o.heatmap = true;
    else if (k == "pca") o.pca = true;
    else if (k == "all") o.mean_diff = o.heatmap = o.pca = true;
    else throw Error("unknown plot '" + k + "' (known: mean_diff, heatmap, pca, all, none)");
    start = end + 1;
  }
}

BarChart mean_diff_chart(const PairAnalysis& p, size_t pair_index, Component component) {
  BarChart c;
  c.text.title = "Mean activation difference by layer (" + std::string(component_name(component)) + "), pair " +
                 std::to_string(pair_index + 1);
  c.text.x_label = "Layer";
  c.text.y_label = "Mean |a1 − a2|";
  c.text.caption = pair_caption(p);
  BarSeries s;
  s.name = component_name(component);
  for (const KeyDifference& d : p.differences)
    if (d.component == component) {
      c.categories.push_back(std::to_string(d.layer));
      s.values.push_back(d.mean_abs);
    }
  c.series.push_back(s);
  return c;
}

BarChart mean_diff_chart_all_pairs(const BiasAnalysis& a, Component component) {
  BarChart c;
  c.text.title = "Mean activation difference by layer (" + std::string(component_name(component)) + "), " +
                 std::to_string(a.pairs.size()) + " pairs";
  c.text.x_label = "Layer";
  c.text.y_label = "Mean |a1 − a2| over pairs";
  c.text.caption = "Bars: mean over all prompt pairs; error bars: standard deviation over pairs.";
  BarSeries s;
  s.name = component_name(component);
  if (a.pairs.empty()) return c;
  for (size_t k = 0; k < a.pairs[0].differences.size(); ++k) {
    const KeyDifference& d0 = a.pairs[0].differences[k];
    if (d0.component != component) continue;
    double sum = 0, sq = 0;
    for (const PairAnalysis& p : a.pairs) {
      sum += p.differences[k].mean_abs;
      sq += static_cast<double>(p.differences[k].mean_abs) * p.differences[k].mean_abs;
    }
    const double n = static_cast<double>(a.pairs.size()), mean = sum / n;
    c.categories.push_back(std::to_string(d0.layer));
    s.values.push_back(mean);
    s.errors.push_back(n > 1 ? std::sqrt(std::max(0.0, (sq - n * mean * mean) / (n - 1))) : 0.0);
  }
  c.series.push_back(s);
  return c;
}

Heatmap difference_heatmap(const PairAnalysis& p, size_t pair_index, const std::string& key, int units) {
  auto it = p.kept.find(key);
  if (it == p.kept.end()) throw Error("no activations were kept for " + key + "; add its layer to the plot layers");
  const Activation &a1 = it->second.a1, &a2 = it->second.a2;
  std::vector<float> x1, x2;
  pool_rows(p.alignment, true, a1.data.data(), a1.cols, x1);
  pool_rows(p.alignment, false, a2.data.data(), a2.cols, x2);
  const size_t R = p.alignment.size(), W = static_cast<size_t>(a1.cols);
  std::vector<double> unit_mean(W, 0.0);
  for (size_t r = 0; r < R; ++r)
    for (size_t w = 0; w < W; ++w) unit_mean[w] += std::fabs(static_cast<double>(x1[r * W + w]) - x2[r * W + w]);
  std::vector<size_t> order(W);
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t K = std::min<size_t>(W, static_cast<size_t>(std::max(units, 1)));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(K), order.end(),
                    [&](size_t x, size_t y) { return unit_mean[x] > unit_mean[y] || (unit_mean[x] == unit_mean[y] && x < y); });
  order.resize(K);
  Heatmap h;
  h.text.title = "Activation differences, " + key + ", pair " + std::to_string(pair_index + 1) + " (top " +
                 std::to_string(K) + " of " + std::to_string(W) + " units)";
  h.text.x_label = "Unit (most divergent first)";
  h.text.y_label = "Token";
  h.text.caption = pair_caption(p);
  h.rows = R;
  h.cols = K;
  h.value_label = "|a1 − a2|";
  h.scale = ColorScale::Sequential;
  for (size_t r = 0; r < R; ++r) {
    h.row_labels.push_back(group_label(p, p.alignment.groups[r]));
    for (size_t k = 0; k < K; ++k) h.values.push_back(std::fabs(static_cast<double>(x1[r * W + order[k]]) - x2[r * W + order[k]]));
  }
  for (size_t k = 0; k < K; ++k) h.col_labels.push_back(std::to_string(order[k]));
  return h;
}

ScatterPlot token_pca_plot(const PairAnalysis& p, size_t pair_index, const std::string& key) {
  auto it = p.kept.find(key);
  if (it == p.kept.end()) throw Error("no activations were kept for " + key + "; add its layer to the plot layers");
  const Activation &a1 = it->second.a1, &a2 = it->second.a2;
  std::vector<float> pts(a1.data);
  pts.insert(pts.end(), a2.data.begin(), a2.data.end());
  const int64_t n1 = a1.rows, n = a1.rows + a2.rows;
  const PcaResult r = pca(pts, n, a1.cols, 2);
  ScatterPlot s;
  s.text.title = "PCA of token representations, " + key + ", pair " + std::to_string(pair_index + 1);
  s.text.x_label = pca_axis_label(0, r.explained_variance_ratio.size() > 0 ? r.explained_variance_ratio[0] : NAN);
  s.text.y_label = pca_axis_label(1, r.explained_variance_ratio.size() > 1 ? r.explained_variance_ratio[1] : NAN);
  s.text.caption = pair_caption(p) + "\nArrows join corresponding tokens; highlighted tokens differ between the prompts.";
  std::vector<bool> diff1(static_cast<size_t>(a1.rows), false), diff2(static_cast<size_t>(a2.rows), false);
  for (const AlignedGroup& g : p.alignment.groups)
    if (group_differs(p, g)) {
      for (int64_t i = g.begin1; i < g.end1; ++i) diff1[static_cast<size_t>(i)] = true;
      for (int64_t i = g.begin2; i < g.end2; ++i) diff2[static_cast<size_t>(i)] = true;
    }
  auto coord = [&](int64_t i, int c) { return r.components > c ? r.scores[static_cast<size_t>(i * r.components + c)] : 0.0; };
  ScatterSeries s1{"Prompt 1", {}}, s2{"Prompt 2", {}};
  for (int64_t i = 0; i < n1; ++i)
    s1.points.push_back({coord(i, 0), coord(i, 1), p.tokens1[static_cast<size_t>(i)], diff1[static_cast<size_t>(i)]});
  for (int64_t i = 0; i < a2.rows; ++i)
    s2.points.push_back({coord(n1 + i, 0), coord(n1 + i, 1), p.tokens2[static_cast<size_t>(i)], diff2[static_cast<size_t>(i)]});
  s.series = {s1, s2};
  for (const AlignedGroup& g : p.alignment.groups)
    if (g.one_to_one() || g.end1 > g.begin1) s.arrows.push_back({static_cast<size_t>(g.begin1), static_cast<size_t>(g.begin2)});
  return s;
}

BarChart bias_comparison_chart(const BiasAnalysis& before, const BiasAnalysis& after, Component component,
                               const std::string& before_name, const std::string& after_name) {
  BarChart b = mean_diff_chart_all_pairs(before, component);
  BarChart a = mean_diff_chart_all_pairs(after, component);
  BarChart c;
  c.text.title = "Mean activation difference by layer (" + std::string(component_name(component)) + "): " +
                 before_name + " vs " + after_name;
  c.text.x_label = "Layer";
  c.text.y_label = "Mean |a1 − a2| over pairs";
  const double mb = before.pairs.empty() ? NAN : bias_aggregate(before)["mean_difference"].get<double>();
  const double ma = after.pairs.empty() ? NAN : bias_aggregate(after)["mean_difference"].get<double>();
  char buf[160];
  std::snprintf(buf, sizeof buf, "Overall mean difference: %s %.6g, %s %.6g (%+.2f%%).", before_name.c_str(), mb,
                after_name.c_str(), ma, 100.0 * (ma - mb) / mb);
  c.text.caption = buf;
  // Layers may differ (depth pruning): the union of layer labels, NaN where one side lacks a layer.
  c.categories = b.categories;
  for (const std::string& cat : a.categories)
    if (std::find(c.categories.begin(), c.categories.end(), cat) == c.categories.end()) c.categories.push_back(cat);
  auto series = [&](const BarChart& src, const std::string& name) {
    BarSeries s;
    s.name = name;
    for (const std::string& cat : c.categories) {
      auto it = std::find(src.categories.begin(), src.categories.end(), cat);
      s.values.push_back(it == src.categories.end() || src.series.empty()
                             ? NAN
                             : src.series[0].values[static_cast<size_t>(it - src.categories.begin())]);
    }
    return s;
  };
  c.series = {series(b, before_name), series(a, after_name)};
  return c;
}

std::vector<PlotFile> write_bias_plots(const BiasAnalysis& a, const std::filesystem::path& dir, const BiasPlotOptions& o) {
  std::filesystem::create_directories(dir);
  const ImageFormat f = o.format;
  // Each figure is built and written by one job; the jobs are listed in file order, then run in
  // parallel (every job has its own cairo surface), since a report can hold hundreds of figures.
  std::vector<std::function<PlotFile()>> jobs;
  if (o.mean_diff)
    for (Component c : kBarComponents)
      if (analysed(a, c) && a.pairs.size() > 1)
        jobs.push_back([&a, &dir, f, c] {
          const auto path = dir / file_name("mean_diff_" + std::string(component_name(c)) + "_all_pairs", f);
          const BarChart chart = mean_diff_chart_all_pairs(a, c);
          bar_chart_write(chart, path, f);
          return PlotFile{path, chart.text.title, "mean_diff", -1};
        });
  std::vector<size_t> pairs = o.pairs;
  if (pairs.empty()) {
    pairs.resize(a.pairs.size());
    std::iota(pairs.begin(), pairs.end(), size_t{0});
  }
  for (size_t i : pairs) {
    if (i >= a.pairs.size()) throw Error("plot pair " + std::to_string(i + 1) + " does not exist (there are " + std::to_string(a.pairs.size()) + " pairs)");
    const PairAnalysis& p = a.pairs[i];
    const std::string suffix = "_pair" + std::to_string(i);
    if (o.mean_diff)
      for (Component c : kBarComponents)
        if (analysed(a, c))
          jobs.push_back([&p, &dir, f, c, i, suffix] {
            const auto path = dir / file_name("mean_diff_" + std::string(component_name(c)) + suffix, f);
            const BarChart chart = mean_diff_chart(p, i, c);
            bar_chart_write(chart, path, f);
            return PlotFile{path, chart.text.title, "mean_diff", static_cast<int>(i)};
          });
    for (int layer : a.plot_layers) {
      if (o.heatmap)
        for (Component c : kBarComponents) {
          const std::string key = activation_key(c, layer);
          if (!p.kept.count(key)) continue;
          jobs.push_back([&p, &dir, &o, f, c, i, layer, key, suffix] {
            const auto path =
                dir / file_name("heatmap_" + std::string(component_name(c)) + "_" + std::to_string(layer) + suffix, f);
            const Heatmap chart = difference_heatmap(p, i, key, o.heatmap_units);
            heatmap_write(chart, path, f);
            return PlotFile{path, chart.text.title, "heatmap", static_cast<int>(i)};
          });
        }
      if (o.pca)
        for (Component c : kPcaComponents) {
          const std::string key = activation_key(c, layer);
          if (!p.kept.count(key)) continue;
          jobs.push_back([&p, &dir, f, c, i, layer, key, suffix] {
            const auto path =
                dir / file_name("pca_" + std::string(component_name(c)) + "_" + std::to_string(layer) + suffix, f);
            const ScatterPlot chart = token_pca_plot(p, i, key);
            scatter_plot_write(chart, path, f);
            return PlotFile{path, chart.text.title, "pca", static_cast<int>(i)};
          });
        }
    }
  }
  std::vector<PlotFile> files(jobs.size());
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t j = 0; j < jobs.size(); ++j) {
    try {
      files[j] = jobs[j]();
    } catch (...) {
#pragma omp critical(bias_plot_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return files;
}

std::vector<PlotFile> write_bias_comparison(const BiasAnalysis& before, const BiasAnalysis& after,
                                            const std::filesystem::path& dir, ImageFormat format,
                                            const std::string& before_name, const std::string& after_name) {
  std::filesystem::create_directories(dir);
  std::vector<PlotFile> files;
  for (Component c : before.components) {
    if (!analysed(after, c)) continue;
    const auto path = dir / file_name("comparison_" + std::string(component_name(c)), format);
    const BarChart chart = bias_comparison_chart(before, after, c, before_name, after_name);
    bar_chart_write(chart, path, format);
    files.push_back({path, chart.text.title, "comparison", -1});
  }
  return files;
}

}  // namespace optipfair
