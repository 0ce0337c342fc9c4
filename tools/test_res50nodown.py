#!/usr/bin/python3
"""Checks of tools/res50nodown.py and its export (run: /usr/bin/python3 tools/test_res50nodown.py; with onnxruntime
importable the exported graph is also run). CI does not run Python; run this after touching res50nodown.py."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torchvision  # noqa: E402

import export_clip_onnx  # noqa: E402
import res50nodown as rn  # noqa: E402


class NetTest(unittest.TestCase):
    def setUp(self):
        torch.set_grad_enabled(False)

    def test_full_width_is_torchvision_resnet50_with_a_stride_1_stem(self):
        net = rn.random_init(rn.ARCHS["res50nodown"], seed=0)
        self.assertEqual(sum(p.numel() for p in net.parameters()), 23_510_081)  # ResNet-50 with fc 2048 -> 1
        tv = torchvision.models.resnet50(num_classes=1)
        tv.conv1.stride, tv.maxpool.stride = (1, 1), 1
        tv.load_state_dict(net.state_dict())  # same key names, same shapes
        x = torch.randn(1, 3, 45, 37)
        torch.testing.assert_close(net(x), tv.eval()(x), rtol=1e-5, atol=1e-5)
        self.assertEqual(tuple(net.layer4(net.layer3(net.layer2(net.layer1(
            net.maxpool(net.conv1(torch.zeros(1, 3, 64, 48))))))).shape), (1, 2048, 8, 6))  # 8x, not 32x

    def test_random_init_is_deterministic_and_seeded(self):
        x = torch.randn(2, 3, 40, 30)
        a, b, c = (rn.random_init(rn.ARCHS["res50nodown-tiny"], seed=s) for s in (0, 0, 1))
        torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)
        self.assertGreater((a(x) - c(x)).abs().max().item(), 1e-3)
        self.assertEqual(tuple(a(x).shape), (2, 1))

    def test_checkpoint_wrappers_and_module_prefix(self):
        net = rn.random_init(rn.ARCHS["res50nodown-tiny"], seed=3)
        sd = net.state_dict()
        x = torch.randn(1, 3, 33, 29)
        wrapped = {"model": {"module." + k: v for k, v in sd.items()}, "epoch": 7}
        for obj in (wrapped, {"state_dict": sd}, {"net": sd}, dict(sd),
                    {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}):
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "weights.pth")
                torch.save(obj, path)
                loaded = rn.load_net(path, arch="res50nodown-tiny")
                torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)

    def test_wrong_checkpoints_are_refused_with_the_reason(self):
        sd = rn.random_init(rn.ARCHS["res50nodown-tiny"], seed=0).state_dict()
        bad_shape = dict(sd)
        bad_shape["fc.weight"] = torch.zeros(2, 128)
        cases = [({"visual.conv1.weight": torch.zeros(1)}, "not a res50nodown state dict"),
                 (bad_shape, r"fc.weight: checkpoint \[2, 128\], network \[1, 128\]"),
                 ({k: v for k, v in sd.items() if k != "layer1.0.bn1.weight"}, "missing layer1.0.bn1.weight"),
                 (sd, "--arch res50nodown is stem 64")]
        for obj, message in cases:
            with self.subTest(message), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "w.pth")
                torch.save(obj, path)
                arch = "res50nodown" if "--arch" in message else None
                with self.assertRaisesRegex(rn.NetConfigError, message):
                    rn.load_net(path, arch=arch)


class ExportTest(unittest.TestCase):
    def test_export_interface_manifest_and_samples(self):
        import onnx
        with tempfile.TemporaryDirectory() as tmp:
            out, samples = os.path.join(tmp, "m"), os.path.join(tmp, "v.json")
            try:
                import onnxruntime  # noqa: F401
                check = []
            except ImportError:
                check = ["--skip-check"]
            export_clip_onnx.main(["--quiet", "--random-init", "--arch", "res50nodown-tiny", "--out", out,
                                   "--write-samples", samples, "--check-sizes", "40x30,17x23", *check])
            with open(os.path.join(out, "manifest.json")) as f:
                manifest = json.load(f)
            self.assertEqual(list(manifest), ["format", "id", "description", "onnx", "sha256", "provenance", "input",
                                              "output", "preprocess", "l2_normalize"])
            self.assertEqual(manifest["input"], {"name": "pixel_values", "dtype": "float32", "shape": [-1, 3, -1, -1]})
            self.assertEqual(manifest["output"], {"name": "logit", "dtype": "float32", "dim": 1, "kind": "logit"})
            self.assertEqual(manifest["preprocess"], {"resize": None, "crop": None, "mean": [0.485, 0.456, 0.406],
                                                      "std": [0.229, 0.224, 0.225], "max_pixels": None})
            self.assertEqual(manifest["l2_normalize"], "none")
            self.assertEqual(manifest["provenance"]["weights"], "random-init seed=0")
            self.assertTrue(manifest["provenance"]["architecture"].startswith("res50nodown (Corvi2023)"))
            graph = onnx.load(os.path.join(out, "model.onnx")).graph
            dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
            self.assertEqual(dims, ["batch", 3, "height", "width"])
            with open(samples) as f:
                self.assertEqual(json.load(f)["input"]["shape"], [2, 3, 40, 30])
            with open(os.path.join(tmp, "v.17x23.json")) as f:
                self.assertEqual(json.load(f)["expected"]["shape"], [2, 1])

    def test_clip_only_and_logit_only_options_are_refused(self):
        for extra, message in ((["--arch", "res50nodown-tiny", "--head-random-init"], SystemExit),
                               (["--arch", "tiny", "--check-sizes", "10x10"], SystemExit),
                               (["--arch", "res50nodown-tiny", "--check-sizes", "10by10"], SystemExit)):
            with self.subTest(extra), tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as null:
                stderr, sys.stderr = sys.stderr, null
                try:
                    with self.assertRaises(message):
                        export_clip_onnx.parse_args(["--random-init", "--out", tmp, *extra])
                finally:
                    sys.stderr = stderr


if __name__ == "__main__":
    unittest.main()
