// The forward pass and activation capture against the Python optipfair reference: the same
// stories260K weights run by a faithful PyTorch Llama in float32 (../shared/reference/optipfair).
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/load_model.h"
#include "model/capture.h"
#include "model/forward.h"
#include "model/model.h"
#include "test_support.h"

namespace optipfair {
namespace {

using nlohmann::json;

json read_reference() {
  std::ifstream in(test::shared_path("reference/optipfair/stories260K.json"));
  return json::parse(in);
}

class ReferenceActivations : public ::testing::TestWithParam<std::string> {};

// Relative error against the larger of |ref| and a floor that keeps near-zero values honest.
void expect_close(double got, double ref, double rel, const std::string& what) {
  EXPECT_LE(std::fabs(got - ref), rel * std::max(std::fabs(ref), 1e-3)) << what << ": got " << got << ", reference " << ref;
}

TEST_P(ReferenceActivations, LogitsAndEveryCapturedComponentMatchPython) {
  const auto ref_path = test::shared_path("reference/optipfair/stories260K.json");
  OPTIPFAIR_REQUIRE_SHARED(ref_path);
  const std::string source = GetParam() == "hf" ? test::shared_path("models/stories260K-hf").string()
                                                : test::shared_path("models/stories260K/stories260K.bin").string();
  const Model model = load_model(source);
  const json ref = read_reference();
  int checked = 0;
  for (const json& pair : ref["pairs"]) {
    for (const char* which : {"prompt1", "prompt2"}) {
      const std::string ids_key = std::string(which) == "prompt1" ? "ids1" : "ids2";
      const auto ids = pair[ids_key].get<std::vector<int32_t>>();
      ActivationCapture capture(parse_layer_selection("all", model.config.num_hidden_layers),
                                std::vector<Component>(kAllComponents.begin(), kAllComponents.end()));
      const std::vector<float> logits = forward_tokens(model, ids, &capture);
      const int64_t V = model.config.vocab_size;
      const float* last = logits.data() + (static_cast<int64_t>(ids.size()) - 1) * V;

      const json& fl = pair["final_logits"][which];
      const auto first8 = fl["first8"].get<std::vector<double>>();
      for (size_t i = 0; i < first8.size(); ++i) expect_close(last[i], first8[i], 1e-4, "logit " + std::to_string(i));
      EXPECT_EQ(std::max_element(last, last + V) - last, fl["argmax"].get<int64_t>());
      double sum = 0;
      for (int64_t i = 0; i < V; ++i) sum += last[i];
      expect_close(sum, fl["sum_f64"].get<double>(), 1e-5, "logit sum");

      for (auto& [key, summary] : pair["activation_summaries"][which].items()) {
        const auto pos = key.find("_layer_");
        const Component comp = component_from_name(key.substr(0, pos));
        const int layer = std::stoi(key.substr(pos + 7));
        const Activation& a = capture.get(0, layer, comp);
        const auto shape = summary["shape"].get<std::vector<int64_t>>();
        ASSERT_EQ(a.rows, shape[1]) << key;
        ASSERT_EQ(a.cols, shape[2]) << key;
        double mean_abs = 0;
        for (float f : a.data) mean_abs += std::fabs(f);
        mean_abs /= static_cast<double>(a.data.size());
        expect_close(mean_abs, summary["mean_abs_f64"].get<double>(), 1e-5, key + " mean |a|");
        const auto first4 = summary["last_pos_first4"].get<std::vector<double>>();
        for (size_t i = 0; i < first4.size(); ++i)
          EXPECT_NEAR(a.row(a.rows - 1)[i], first4[i], 1e-4 * std::max(1.0, std::fabs(first4[i]))) << key;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 6 * 30);  // 6 prompts x 5 layers x 6 components
}

INSTANTIATE_TEST_SUITE_P(Stories260K, ReferenceActivations, ::testing::Values("hf", "llama2c"));

}  // namespace
}  // namespace optipfair
