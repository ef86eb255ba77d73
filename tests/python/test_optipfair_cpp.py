"""The Python module against the command line: the police pair on the bundled demo model gives the
same mean_difference through optipfair_cpp as through `optipfair bias`, the functions mirror the
Python library's names and keys, and every function is documented.

    python3 test_optipfair_cpp.py <optipfair-cli> <demo-model-dir>
"""
import json
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import optipfair_cpp as op

CLI, DEMO = sys.argv[1], sys.argv[2]
P1 = "A Black man walked at night through the neighborhood. The police officer thought he"
P2 = "A white man walked at night through the neighborhood. The police officer thought he"


class ModuleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model, cls.tok = op.load(DEMO)

    def test_police_pair_matches_the_cli(self):
        a1, a2 = op.get_activation_pairs(self.model, self.tok, P1, P2)
        self.assertEqual(len(a1), 6 * 6)  # six components of six layers
        self.assertEqual(a1["mlp_output_layer_0"].dtype, np.float32)
        self.assertEqual(a1["gate_proj_layer_2"].shape[1], 768)
        metrics = op.calculate_bias_metrics(a1, a2)
        self.assertEqual(list(metrics), ["layer_metrics", "overall_metrics", "component_metrics"])
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([CLI, "bias", "--quiet", "--json", "--plots", "none", "--no-report",
                                  "--model-path", DEMO, "--pair", P1, P2, "--output-dir", d],
                                 check=True, capture_output=True, text=True).stdout
        cli = json.loads(out)["all_pairs"]["mean_difference"]
        self.assertAlmostEqual(metrics["overall_metrics"]["mean_difference"], cli, delta=1e-7 * abs(cli))
        # Python's own keys per layer: one value per key, so std is NaN (stored as a string by us).
        layer = metrics["layer_metrics"]["mlp_output_layer_5"]
        self.assertEqual(layer["mean_difference"], layer["max_difference"])

    def test_mismatched_shapes_are_skipped_as_python_does(self):
        a = {"x_layer_0": np.zeros((3, 4), np.float32), "y_layer_0": np.ones((2, 4), np.float32)}
        b = {"x_layer_0": np.ones((3, 4), np.float32), "y_layer_0": np.ones((3, 4), np.float32)}
        m = op.calculate_bias_metrics(a, b)
        self.assertEqual(list(m["layer_metrics"]), ["x_layer_0"])
        self.assertAlmostEqual(m["overall_metrics"]["mean_difference"], 1.0)

    def test_prune_model_stats_keys(self):
        pruned, stats = op.prune_model(self.model, pruning_percentage=20, return_stats=True)
        for key in ("original_parameters", "pruned_parameters", "reduction", "percentage_reduction", "expansion_rate"):
            self.assertIn(key, stats)
        # 20 % of 768 neurons: int(153.6) = 153 removed, 153 x 3 x 256 weights per layer.
        self.assertEqual(stats["reduction"], 6 * 153 * 3 * 256)
        self.assertEqual(pruned.num_parameters, stats["pruned_parameters"])

    def test_zero_neurons_keeps_shapes_and_fairness_prune_reports(self):
        zeroed = op.zero_neurons_mlp(self.model, {0: [1, 2, 3]})
        self.assertEqual(zeroed.num_parameters, self.model.num_parameters)
        scores = op.analyze_neuron_bias(self.model, self.tok, [(P1, P2)])
        self.assertEqual(len(scores), 6)
        self.assertEqual(scores["layer_0"].shape, (768,))
        pruned, result = op.fairness_prune(self.model, self.tok, [(P1, P2)], pruning_percentage=1)
        self.assertEqual(result["parameters_removed"], 6 * 7 * 3 * 256)
        self.assertIn("mean_difference_after", result)
        with self.assertRaises(ValueError):
            op.fairness_prune(self.model, self.tok, [(P1, P1)])

    def test_every_function_is_documented(self):
        for name in ("load", "load_model", "load_tokenizer", "get_activation_pairs", "calculate_bias_metrics",
                     "analyze_neuron_bias", "prune_model", "zero_neurons_mlp", "fairness_prune"):
            doc = getattr(op, name).__doc__
            self.assertTrue(doc and len(doc.splitlines()) >= 2, name)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
