#include "model/capture.h"

#include <algorithm>
#include <charconv>

#include "util/error.h"

namespace optipfair {

const char* component_name(Component c) {
  switch (c) {
    case Component::InputNorm: return "input_norm";
    case Component::AttentionOutput: return "attention_output";
    case Component::GateProj: return "gate_proj";
    case Component::UpProj: return "up_proj";
    case Component::DownProj: return "down_proj";
    case Component::MlpOutput: return "mlp_output";
    case Component::LayerInput: return "layer_input";
    case Component::LayerOutput: return "layer_output";
  }
  return "?";
}

Component component_from_name(std::string_view name) {
  for (Component c : kAllComponents)
    if (name == component_name(c)) return c;
  throw Error("unknown component '" + std::string(name) +
              "' (known: input_norm, attention_output, gate_proj, up_proj, down_proj, mlp_output)");
}

std::string activation_key(Component c, int layer) {
  return std::string(component_name(c)) + "_layer_" + std::to_string(layer);
}

std::vector<int> parse_layer_selection(std::string_view spec, int64_t n_layers) {
  std::vector<int> layers;
  if (spec == "all") {
    for (int i = 0; i < n_layers; ++i) layers.push_back(i);
    return layers;
  }
  if (spec == "first_middle_last") {
    layers = {0, static_cast<int>(n_layers / 2), static_cast<int>(n_layers - 1)};
  } else {
    size_t start = 0;
    while (start <= spec.size()) {
      size_t end = spec.find(',', start);
      if (end == std::string_view::npos) end = spec.size();
      std::string_view item = spec.substr(start, end - start);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      int value = 0;
      auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
      if (item.empty() || ec != std::errc() || ptr != item.data() + item.size())
        throw Error("invalid layer selection '" + std::string(spec) +
                    "' (use all, first_middle_last, or indices like 0,7,15)");
      if (value < 0) value += static_cast<int>(n_layers);  // -1 is the last layer, as in Python
      if (value < 0 || value >= n_layers)
        throw Error("layer " + std::string(item) + " is out of range: the model has " +
                    std::to_string(n_layers) + " layers (0-" + std::to_string(n_layers - 1) + ")");
      layers.push_back(value);
      start = end + 1;
    }
  }
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  return layers;
}

ActivationCapture::ActivationCapture(std::vector<int> layers, std::vector<Component> components)
    : layers_(std::move(layers)), components_(std::move(components)) {
  int max_layer = -1;
  for (int l : layers_) max_layer = std::max(max_layer, l);
  layer_slot_.assign(static_cast<size_t>(max_layer + 1), -1);
  for (size_t i = 0; i < layers_.size(); ++i) layer_slot_[static_cast<size_t>(layers_[i])] = static_cast<int>(i);
}

bool ActivationCapture::wants(int layer, Component c) const {
  if (layer < 0 || static_cast<size_t>(layer) >= layer_slot_.size() || layer_slot_[static_cast<size_t>(layer)] < 0)
    return false;
  return std::find(components_.begin(), components_.end(), c) != components_.end();
}

size_t ActivationCapture::slot(int layer, Component c) const {
  return static_cast<size_t>(layer_slot_[static_cast<size_t>(layer)]) * kComponentCount +
         static_cast<size_t>(c);
}

void ActivationCapture::record(size_t seq, int layer, Component c, const float* data, int64_t rows,
                               int64_t cols, int64_t stride) {
  if (!wants(layer, c)) return;
  if (per_seq_.size() <= seq) per_seq_.resize(seq + 1);
  auto& slots = per_seq_[seq];
  if (slots.empty()) slots.resize(layers_.size() * kComponentCount);
  auto& entry = slots[slot(layer, c)];
  if (!entry) {
    entry.emplace();
    entry->cols = cols;
  }
  if (entry->cols != cols) throw Error("activation width changed between forward calls");
  entry->data.reserve(entry->data.size() + static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    entry->data.insert(entry->data.end(), data + r * stride, data + r * stride + cols);
  entry->rows += rows;
}

bool ActivationCapture::has(size_t seq, int layer, Component c) const {
  if (!wants(layer, c) || seq >= per_seq_.size() || per_seq_[seq].empty()) return false;
  return per_seq_[seq][slot(layer, c)].has_value();
}

const Activation& ActivationCapture::get(size_t seq, int layer, Component c) const {
  if (!has(seq, layer, c))
    throw Error("no activation was captured for " + activation_key(c, layer) + " of sequence " +
                std::to_string(seq));
  return *per_seq_[seq][slot(layer, c)];
}

}  // namespace optipfair
