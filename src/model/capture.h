// Activation capture: which layers and components to record during a forward pass, and the results.
// When no capture is passed to forward(), no activation is copied anywhere.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace optipfair {

// The six the Python library hooks, then the residual stream before and after each layer (what
// transformers' hidden_states hold; for layer importance, never offered to users by name).
enum class Component { InputNorm, AttentionOutput, GateProj, UpProj, DownProj, MlpOutput, LayerInput, LayerOutput };
inline constexpr size_t kComponentCount = 8;
constexpr std::array<Component, 6> kAllComponents = {
    Component::InputNorm, Component::AttentionOutput, Component::GateProj,
    Component::UpProj,    Component::DownProj,        Component::MlpOutput};

// "input_norm", "attention_output", "gate_proj", "up_proj", "down_proj", "mlp_output" (and
// "layer_input", "layer_output").
const char* component_name(Component c);
// Throws Error listing the known names when `name` is none of them.
Component component_from_name(std::string_view name);
// "gate_proj_layer_3": the Python library's key.
std::string activation_key(Component c, int layer);

// Parses "all", "first_middle_last" or "0,7,15" against a model of n_layers; throws Error on
// an index out of range.
std::vector<int> parse_layer_selection(std::string_view spec, int64_t n_layers);

struct Activation {
  int64_t rows = 0;   // tokens
  int64_t cols = 0;   // width (hidden size, or the layer's intermediate size for gate/up)
  std::vector<float> data;  // rows x cols, row-major
  const float* row(int64_t r) const { return data.data() + r * cols; }
};

class ActivationCapture {
 public:
  ActivationCapture(std::vector<int> layers, std::vector<Component> components);

  bool wants(int layer, Component c) const;
  // Appends `rows` rows (row stride `stride` floats) for sequence `seq` of the current batch;
  // successive forward calls on the same sequence keep appending.
  void record(size_t seq, int layer, Component c, const float* data, int64_t rows, int64_t cols,
              int64_t stride);
  // Throws Error when nothing was recorded for that key.
  const Activation& get(size_t seq, int layer, Component c) const;
  bool has(size_t seq, int layer, Component c) const;
  size_t num_sequences() const { return per_seq_.size(); }
  const std::vector<int>& layers() const { return layers_; }
  const std::vector<Component>& components() const { return components_; }
  void clear() { per_seq_.clear(); }

 private:
  size_t slot(int layer, Component c) const;
  std::vector<int> layers_;
  std::vector<Component> components_;
  std::vector<int> layer_slot_;  // layer -> index into layers_, -1 when not captured
  std::vector<std::vector<std::optional<Activation>>> per_seq_;
};

}  // namespace optipfair
