// The Python module `optipfair_cpp`: liboptipfair for notebooks. Function names and dict keys follow
// the Python optipfair library where the two overlap (get_activation_pairs, calculate_bias_metrics,
// prune_model with its stats keys, zero_neurons_mlp, fairness pruning), so switching is a change of
// import. Arrays come back as NumPy float32 arrays; the GIL is released while the library computes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bias/bias_analysis.h"
#include "bias/python_metrics.h"
#include "io/load_model.h"
#include "model/param_count.h"
#include "pipeline/fair_prune.h"
#include "pipeline/fair_prune_report.h"
#include "prune/apply.h"
#include "prune/prune_model.h"
#include "prune/save_pruned.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace py = pybind11;
using namespace optipfair;

namespace {

using Release = py::call_guard<py::gil_scoped_release>;
using ActivationDict = std::map<std::string, py::array_t<float>>;

// nlohmann JSON -> Python objects (dicts keep the library's key order).
py::object to_python(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_python(it.value());
      return d;
    }
    case nlohmann::ordered_json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(to_python(v));
      return l;
    }
    case nlohmann::ordered_json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::ordered_json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::ordered_json::value_t::number_float: return py::float_(j.get<double>());
    default: return py::none();
  }
}

py::array_t<float> to_numpy(const Activation& a) {
  py::array_t<float> out({a.rows, a.cols});
  std::copy(a.data.begin(), a.data.end(), out.mutable_data());
  return out;
}

std::vector<PromptPair> pairs_from(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<PromptPair> out;
  for (const auto& [a, b] : pairs) out.push_back({a, b, ""});
  return out;
}

// One forward pass per prompt capturing every component of every layer.
std::pair<ActivationDict, ActivationDict> get_activation_pairs(const Model& model, const Tokenizer& tokenizer,
                                                                const std::string& prompt1, const std::string& prompt2) {
  BiasOptions o;
  o.plot_layers = "all";
  o.plot_components.assign(kAllComponents.begin(), kAllComponents.end());
  o.progress = false;
  BiasAnalysis a;
  {
    py::gil_scoped_release release;
    a = analyze_bias(model, tokenizer, {{prompt1, prompt2, ""}}, o);
  }
  ActivationDict first, second;
  for (int l = 0; l < model.config.num_hidden_layers; ++l)
    for (Component c : kAllComponents) {
      const std::string key = activation_key(c, l);
      const KeptActivations& k = a.pairs[0].kept.at(key);
      first[key] = to_numpy(k.a1);
      second[key] = to_numpy(k.a2);
    }
  return {first, second};
}

// The Python library's calculate_bias_metrics: mean |a1 - a2| per key present in both with the same
// shape (others are skipped, as Python skips them), then its statistics.
py::object calculate_bias_metrics(const py::dict& act1, const py::dict& act2) {
  std::vector<std::pair<std::string, float>> per_key;
  for (const auto& item : act1) {
    const std::string key = py::str(item.first);
    if (!act2.contains(item.first)) continue;
    const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(item.second);
    const auto b = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(act2[item.first]);
    if (!a || !b) throw Error("activation '" + key + "' is not a numeric array");
    if (a.ndim() != b.ndim() || !std::equal(a.shape(), a.shape() + a.ndim(), b.shape())) continue;
    const py::ssize_t n = a.size();
    if (n == 0) continue;
    double sum = 0;
    for (py::ssize_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(a.data()[i]) - b.data()[i]);
    per_key.emplace_back(key, static_cast<float>(sum / static_cast<double>(n)));
  }
  if (per_key.empty()) return py::dict();
  nlohmann::ordered_json m = python_bias_metrics(per_key);
  json_python_numbers(m);
  return to_python(m);
}

py::dict neuron_scores_dict(const NeuronBiasScores& s) {
  py::dict d;
  for (size_t l = 0; l < s.per_layer.size(); ++l) {
    py::array_t<float> v(static_cast<py::ssize_t>(s.per_layer[l].size()));
    std::copy(s.per_layer[l].begin(), s.per_layer[l].end(), v.mutable_data());
    d[py::str("layer_" + std::to_string(l))] = v;
  }
  return d;
}

py::dict analyze_neuron_bias(const Model& model, const Tokenizer& tokenizer,
                             const std::vector<std::pair<std::string, std::string>>& pairs, bool fast) {
  NeuronBiasScores s;
  {
    py::gil_scoped_release release;
    s = neuron_bias_scores(model, tokenizer, pairs_from(pairs), fast ? Precision::Fast : Precision::Exact);
  }
  return neuron_scores_dict(s);
}

py::object prune_model_py(const Model& model, const std::string& pruning_type, const std::string& neuron_selection_method,
                          std::optional<double> pruning_percentage, std::optional<double> expansion_rate,
                          std::optional<int64_t> expansion_divisor, std::vector<int> layer_indices,
                          std::optional<int64_t> num_layers_to_remove, bool return_stats) {
  PruneOptions o;
  o.type = pruning_type_from_name(pruning_type);
  o.show_progress = false;
  if (o.type == PruningType::MlpGlu) {
    o.width.method = importance_method_from_name(neuron_selection_method);
    o.width.pruning_percentage = pruning_percentage;
    o.width.expansion_rate = expansion_rate;
    o.width.expansion_divisor = expansion_divisor;
    o.width.layer_indices = std::move(layer_indices);
  } else {
    o.depth.num_layers_to_remove = num_layers_to_remove;
    o.depth.layer_indices = std::move(layer_indices);
    if (!o.depth.layer_indices.empty()) o.depth.layer_selection_method = "custom";
    if (pruning_percentage) o.depth.depth_pruning_percentage = pruning_percentage;
  }
  std::shared_ptr<PruneResult> r;
  {
    py::gil_scoped_release release;
    r = std::make_shared<PruneResult>(prune_model(model, o));
  }
  auto pruned = std::make_shared<Model>(std::move(r->model));
  if (!return_stats) return py::cast(pruned);
  nlohmann::ordered_json stats = nlohmann::ordered_json::parse(r->stats.to_json().dump());
  return py::make_tuple(pruned, to_python(stats));
}

Model zero_neurons_mlp(const Model& model, const std::map<int, std::vector<int64_t>>& neurons) {
  std::vector<std::vector<int64_t>> kept(model.layers.size());
  for (size_t l = 0; l < model.layers.size(); ++l) {
    std::vector<bool> drop(static_cast<size_t>(model.layers[l].intermediate_size()), false);
    if (auto it = neurons.find(static_cast<int>(l)); it != neurons.end())
      for (int64_t i : it->second) {
        if (i < 0 || i >= static_cast<int64_t>(drop.size()))
          throw Error("layer " + std::to_string(l) + " has no neuron " + std::to_string(i));
        drop[static_cast<size_t>(i)] = true;
      }
    for (size_t i = 0; i < drop.size(); ++i)
      if (!drop[i]) kept[l].push_back(static_cast<int64_t>(i));
  }
  for (const auto& [layer, list] : neurons)
    if (layer < 0 || layer >= static_cast<int>(model.layers.size()))
      throw Error("layer " + std::to_string(layer) + " does not exist");
  return zero_pruned_neurons(model, kept);
}

py::tuple fairness_prune(const Model& model, const Tokenizer& tokenizer,
                         const std::vector<std::pair<std::string, std::string>>& pairs, double pruning_percentage,
                         const std::string& method, double bias_weight, const std::string& mode,
                         const std::vector<std::pair<std::string, std::string>>& held_out_pairs, bool fast) {
  FairPruneOptions o;
  o.pairs = pairs_from(pairs);
  o.held_out_pairs = pairs_from(held_out_pairs);
  o.plan.pruning_percentage = pruning_percentage;
  o.plan.method = fairness_method_from_name(method);
  o.plan.bias_weight = bias_weight;
  o.mode = prune_mode_from_name(mode);
  o.precision = fast ? Precision::Fast : Precision::Exact;
  o.generate = false;
  o.model_name = model.source.string();
  std::shared_ptr<FairPruneResult> r;
  {
    py::gil_scoped_release release;
    r = std::make_shared<FairPruneResult>(run_fair_prune(model, tokenizer, o));
  }
  const nlohmann::ordered_json j = fair_prune_json(*r, o.model_name);
  auto pruned = std::make_shared<Model>(std::move(r->model));
  return py::make_tuple(pruned, to_python(j));
}

}  // namespace

PYBIND11_MODULE(optipfair_cpp, m) {
  m.doc() =
      "optipfair_cpp: bias analysis and (fairness) pruning of Llama-family models, natively.\n\n"
      "    import optipfair_cpp as op\n"
      "    model, tok = op.load('models/demo')\n"
      "    a1, a2 = op.get_activation_pairs(model, tok, 'The white man ...', 'The Black man ...')\n"
      "    print(op.calculate_bias_metrics(a1, a2)['overall_metrics']['mean_difference'])\n";
  py::register_exception<Error>(m, "Error", PyExc_ValueError);

  py::class_<Model, std::shared_ptr<Model>>(m, "Model", "A loaded (or pruned) model; weights stay memory-mapped.")
      .def_property_readonly("source", [](const Model& x) { return x.source.string(); }, "where it was loaded from")
      .def_property_readonly("num_parameters", [](const Model& x) { return count_parameters(x).total(); },
                             "parameter count")
      .def_property_readonly("config", [](const Model& x) { return to_python(nlohmann::ordered_json::parse(model_summary_json(x).dump())); },
                             "architecture summary (the keys of `optipfair analyze --json`)")
      .def("save", [](const Model& x, const std::string& path, const std::string& format) {
             save_pruned_model(x, path, output_format_from_name(format));
           }, py::arg("path"), py::arg("format") = "hf", Release(),
           "Save as a Hugging Face folder ('hf') or a GGUF file ('gguf'); refuses to write over the source.");
  py::class_<Tokenizer, std::shared_ptr<Tokenizer>>(m, "Tokenizer", "The model's tokenizer.")
      .def("encode", [](const Tokenizer& t, const std::string& text) { return t.encode(text); }, py::arg("text"),
           "token ids of `text` (no BOS)")
      .def("decode", [](const Tokenizer& t, const std::vector<int32_t>& ids) { return t.decode(ids); }, py::arg("ids"),
           "text of token ids");

  m.def("load_model", [](const std::string& path) { return std::make_shared<Model>(load_model(path)); },
        py::arg("path"), Release(),
        "Open a Hugging Face folder or model id, a .gguf file or a llama2.c .bin checkpoint.");
  m.def("load_tokenizer", [](const std::string& path) { return std::shared_ptr<Tokenizer>(load_tokenizer(path)); },
        py::arg("path"), Release(), "The tokenizer of a model folder, .gguf file or tokenizer file.");
  m.def("load", [](const std::string& path) {
          py::gil_scoped_release release;
          auto model = std::make_shared<Model>(load_model(path));
          auto tok = std::shared_ptr<Tokenizer>(load_tokenizer(path));
          return std::make_pair(model, tok);
        }, py::arg("path"), "(model, tokenizer) of a model folder or file.");
  m.def("get_activation_pairs", &get_activation_pairs, py::arg("model"), py::arg("tokenizer"), py::arg("prompt1"),
        py::arg("prompt2"),
        "(activations1, activations2): dicts from the Python library's keys ('mlp_output_layer_3', ...) to\n"
        "float32 arrays [tokens, width] for every component of every layer, one forward pass per prompt.");
  m.def("calculate_bias_metrics", &calculate_bias_metrics, py::arg("activations1"), py::arg("activations2"),
        "The Python library's calculate_bias_metrics: layer_metrics, component_metrics, overall_metrics.\n"
        "Keys whose shapes differ are skipped, as Python skips them.");
  m.def("analyze_neuron_bias", &analyze_neuron_bias, py::arg("model"), py::arg("tokenizer"), py::arg("prompt_pairs"),
        py::arg("fast") = false,
        "Per-neuron bias scores {'layer_0': array, ...}: mean over pairs of mean_t |gate1-gate2| + mean_t |up1-up2|.");
  m.def("prune_model", &prune_model_py, py::arg("model"), py::arg("pruning_type") = "MLP_GLU",
        py::arg("neuron_selection_method") = "MAW", py::arg("pruning_percentage") = py::none(),
        py::arg("expansion_rate") = py::none(), py::arg("expansion_divisor") = py::none(),
        py::arg("layer_indices") = std::vector<int>{}, py::arg("num_layers_to_remove") = py::none(),
        py::arg("return_stats") = false,
        "The Python library's prune_model (MLP_GLU width or DEPTH); with return_stats, (model, stats) with its keys.");
  m.def("zero_neurons_mlp", &zero_neurons_mlp, py::arg("model"), py::arg("neurons"), Release(),
        "A copy of the model with the given neurons {layer: [index, ...]} zeroed in place (gate/up rows and\n"
        "down_proj columns set to zero, shapes kept).");
  m.def("fairness_prune", &fairness_prune, py::arg("model"), py::arg("tokenizer"), py::arg("prompt_pairs"),
        py::arg("pruning_percentage") = 0.2, py::arg("method") = "hybrid", py::arg("bias_weight") = 0.5,
        py::arg("mode") = "remove",
        py::arg("held_out_pairs") = std::vector<std::pair<std::string, std::string>>{}, py::arg("fast") = false,
        "Fairness pruning (the seed notebook's FairnessPruner) as `optipfair fair-prune` runs it:\n"
        "(pruned_model, result) where result has the keys of fair_prune.json.");
}
