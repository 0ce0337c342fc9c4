#!/usr/bin/python3
"""Checks of the shared tower module (run: /usr/bin/python3 tools/test_clip_tower.py). CI does not run Python;
run this after touching clip_tower.py."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import clip_tower as ct  # noqa: E402
import export_clip_onnx  # noqa: E402


def open_clip_style_forward(tower: ct.ClipVisionTower, x: torch.Tensor) -> torch.Tensor:
    """The same computation written as open_clip does it (seq-first nn.MultiheadAttention), from the same weights."""
    cfg = tower.cfg
    x = tower.conv1(x).reshape(x.shape[0], cfg.width, -1).permute(0, 2, 1)
    cls = tower.class_embedding + torch.zeros(x.shape[0], 1, cfg.width)
    x = torch.cat([cls, x], dim=1) + tower.positional_embedding
    x = tower.ln_pre(x).permute(1, 0, 2)  # LND
    for block in tower.transformer.resblocks:
        mha = torch.nn.MultiheadAttention(cfg.width, cfg.heads)
        mha.load_state_dict({"in_proj_weight": block.attn.in_proj_weight, "in_proj_bias": block.attn.in_proj_bias,
                             "out_proj.weight": block.attn.out_proj.weight, "out_proj.bias": block.attn.out_proj.bias})
        h = block.ln_1(x)
        x = x + mha(h, h, h, need_weights=False)[0]
        h = block.ln_2(x)
        act = (lambda t: t * torch.sigmoid(1.702 * t)) if cfg.quick_gelu else F.gelu
        x = x + block.mlp.c_proj(act(block.mlp.c_fc(h)))
    x = x.permute(1, 0, 2)
    return tower.ln_post(x[:, 0, :])


class TowerTest(unittest.TestCase):
    def setUp(self):
        torch.set_grad_enabled(False)
        self.x = torch.randn(3, 3, 224, 224)

    def test_matches_open_clip_formulation(self):
        for quick in (False, True):
            cfg = ct.dataclasses.replace(ct.ARCHS["tiny"], quick_gelu=quick)
            tower = ct.random_init(cfg, seed=0)
            torch.testing.assert_close(tower(self.x), open_clip_style_forward(tower, self.x), rtol=1e-5, atol=1e-5)

    def test_quick_gelu_changes_output(self):
        plain = ct.random_init(ct.ARCHS["tiny"], seed=0)
        quick = ct.random_init(ct.dataclasses.replace(ct.ARCHS["tiny"], quick_gelu=True), seed=0)
        self.assertGreater((plain(self.x) - quick(self.x)).abs().max().item(), 1e-3)

    def test_random_init_is_deterministic_and_seeded(self):
        a, b, c = (ct.random_init(ct.ARCHS["tiny"], seed=s) for s in (0, 0, 1))
        torch.testing.assert_close(a(self.x), b(self.x), rtol=0, atol=0)
        self.assertGreater((a(self.x) - c(self.x)).abs().max().item(), 1e-2)

    def test_l2_normalize_in_graph(self):
        tower = ct.random_init(ct.ARCHS["tiny"], seed=0, l2_normalize=True)
        torch.testing.assert_close(tower(self.x).norm(dim=1), torch.ones(3))

    def test_open_clip_checkpoint_roundtrip_with_wrappers_and_text_keys(self):
        tower = ct.random_init(ct.ARCHS["tiny"], seed=3)
        state = {"module.visual." + k: v for k, v in tower.state_dict().items()}
        state["module.logit_scale"] = torch.tensor(4.6)  # text-side keys are ignored
        state["module.token_embedding.weight"] = torch.zeros(10, 8)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ckpt.bin")
            torch.save({"state_dict": state}, path)
            loaded = ct.load_tower(path, arch="tiny")
            torch.testing.assert_close(loaded(self.x), tower(self.x), rtol=0, atol=0)
            with self.assertRaisesRegex(ct.TowerConfigError, "not a vit-b-16 tower.*width: weights 64 vs vit-b-16 768"):
                ct.load_tower(path, arch="vit-b-16")
            saved = os.path.join(tmp, "weights.pt")
            ct.save_tower(tower, saved, seed=3)
            again = ct.load_tower(saved)  # config travels with the file: 4 heads, not width // 64 = 1
            self.assertEqual(again.cfg, tower.cfg)
            torch.testing.assert_close(again(self.x), tower(self.x), rtol=0, atol=0)

    def test_unsupported_keys_are_refused(self):
        tower = ct.random_init(ct.ARCHS["tiny"], seed=0)
        state = {"visual." + k: v for k, v in tower.state_dict().items()}
        state["visual.transformer.resblocks.0.ls_1.gamma"] = torch.ones(64)  # layer scale: not in this layout
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ckpt.bin")
            torch.save(state, path)
            with self.assertRaisesRegex(ct.TowerConfigError, "unsupported.*ls_1.gamma"):
                ct.load_tower(path, arch="tiny")
            torch.save({"text.only": torch.zeros(1)}, path)
            with self.assertRaisesRegex(ct.TowerConfigError, "no 'visual.\\*' keys"):
                ct.load_tower(path)


class ExportTest(unittest.TestCase):
    """End-to-end export of the tiny tower (no ONNX runtime here: interface, manifest and sample file are checked)."""

    def export(self, tmp, *extra):
        out = os.path.join(tmp, "m")
        samples = os.path.join(tmp, "v.json")
        export_clip_onnx.main(["--quiet", "--random-init", "--arch", "tiny", "--out", out, "--skip-check",
                               "--write-samples", samples, *extra])
        return out, export_clip_onnx.ref.read_json(os.path.join(out, "manifest.json")), \
            export_clip_onnx.ref.read_json(samples)

    def test_fp32_and_fp16_exports(self):
        import base64
        import numpy as np
        import onnx
        for dtype, elem in (("fp32", onnx.TensorProto.FLOAT), ("fp16", onnx.TensorProto.FLOAT16)):
            with tempfile.TemporaryDirectory() as tmp:
                out, manifest, samples = self.export(tmp, "--dtype", dtype)
                model = onnx.load(os.path.join(out, "model.onnx"))
                self.assertEqual(model.graph.input[0].type.tensor_type.elem_type, elem)
                self.assertTrue(all(i.data_type == elem for i in model.graph.initializer if i.data_type in
                                    (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)))
                self.assertEqual(manifest["sha256"], export_clip_onnx.ref.sha256_file(os.path.join(out, "model.onnx")))
                self.assertEqual(manifest["input"]["dtype"], export_clip_onnx.DTYPE_NAMES[dtype])
                self.assertEqual(manifest["output"]["dim"], 64)
                self.assertEqual(samples["model_sha256"], manifest["sha256"])
                x = np.frombuffer(base64.b64decode(samples["input"]["data"]), "<f4").reshape(samples["input"]["shape"])
                y = np.frombuffer(base64.b64decode(samples["expected"]["data"]), "<f4")
                tower = ct.random_init(ct.ARCHS["tiny"], seed=0)
                torch.testing.assert_close(tower(torch.from_numpy(x.copy())).flatten(), torch.from_numpy(y.copy()))
                if dtype == "fp16":
                    self.assertTrue(np.array_equal(x, x.astype(np.float16).astype(np.float32)))

    def need_quantisation_venv(self):
        """Skips the test when the venv for ONNX Runtime's quantisation tool cannot be made (no package index)."""
        import onnx_int8
        try:
            onnx_int8.ensure_venv(say=lambda _: None)
        except (onnx_int8.QuantizationError, OSError) as e:
            self.skipTest(f"no quantisation venv: {e}")

    def test_int8_export(self):
        """The fp32 graph quantised in the venv: float32 interface, MatMulInteger for the weight MatMuls only, settings
        and the PyTorch check in provenance.quantization. Needs the venv (made here unless pip cannot reach an index)."""
        import onnx
        self.need_quantisation_venv()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m")
            export_clip_onnx.main(["--quiet", "--random-init", "--arch", "tiny", "--out", out, "--dtype", "int8",
                                   "--model-id", "tiny-clip-test"])
            manifest = export_clip_onnx.ref.read_json(os.path.join(out, "manifest.json"))
            model = onnx.load(os.path.join(out, "model.onnx"))
            ops = [n.op_type for n in model.graph.node]
            self.assertEqual(ops.count("MatMulInteger"), 8)  # qkv, out_proj, c_fc, c_proj in each of 2 blocks
            self.assertEqual(ops.count("MatMul"), 4)  # q·kᵀ and softmax·v stay float
            self.assertEqual(model.graph.input[0].type.tensor_type.elem_type, onnx.TensorProto.FLOAT)
            self.assertEqual((manifest["input"]["dtype"], manifest["output"]["dtype"]), ("float32", "float32"))
            q = manifest["provenance"]["quantization"]
            self.assertEqual((q["per_channel"], q["weight_type"], q["activation_type"], q["op_types"]),
                             (True, "QInt8", "QUInt8", ["MatMul"]))
            # the same fp32 graph as the committed tiny model, and int8 features close to PyTorch's
            self.assertEqual(q["fp32_sha256"], export_clip_onnx.ref.read_json(
                os.path.join(export_clip_onnx.ref.REPO_ROOT, "models", "tiny-clip-test", "manifest.json"))["sha256"])
            self.assertGreater(q["export_check"]["feature_cosine_min"], 0.999)
            self.assertGreater(q["export_check"]["abs_diff_max"], 0)  # really quantised

    def test_int8_keep_float_leaves_those_layers_float(self):
        """--int8-keep-float mlp-out,qkv: those MatMuls stay float in every block, and the manifest lists them."""
        import onnx
        self.need_quantisation_venv()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m")
            export_clip_onnx.main(["--quiet", "--random-init", "--arch", "tiny", "--out", out, "--dtype", "int8",
                                   "--int8-keep-float", "mlp-out,qkv"])
            nodes = onnx.load(os.path.join(out, "model.onnx")).graph.node
            floats = sorted(n.name for n in nodes if n.op_type == "MatMul")
            self.assertEqual([n.op_type for n in nodes].count("MatMulInteger"), 4)  # out_proj and c_fc, 2 blocks
            self.assertEqual(sum(1 for n in floats if n.endswith(("/mlp/c_proj/MatMul", "/attn/MatMul"))), 4)
            q = export_clip_onnx.ref.read_json(os.path.join(out, "manifest.json"))["provenance"]["quantization"]
            self.assertEqual((q["kept_float"], q["matmuls_quantized"], q["matmuls_float"]), (["qkv", "mlp-out"], 4, 8))
        with self.assertRaises(SystemExit):  # argparse: unknown layer, and the option without --dtype int8
            export_clip_onnx.main(["--quiet", "--random-init", "--arch", "tiny", "--out", "x", "--dtype", "int8",
                                   "--int8-keep-float", "mlp"])
        with self.assertRaises(SystemExit):
            export_clip_onnx.main(["--quiet", "--random-init", "--arch", "tiny", "--out", "x",
                                   "--int8-keep-float", "mlp-out"])

    def test_int8_export_fails_below_the_cosine_bound(self):
        self.need_quantisation_venv()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m")
            with self.assertRaisesRegex(export_clip_onnx.ExportError, "--int8-min-cosine"):
                export_clip_onnx.main(["--quiet", "--random-init", "--arch", "tiny", "--out", out, "--dtype", "int8",
                                       "--int8-min-cosine", "1.0000001"])
            self.assertEqual(os.listdir(out), [])  # nothing written, staging removed

    def test_export_refuses_to_write_unchecked_model(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m")
            args = ["--quiet", "--random-init", "--arch", "tiny", "--out", out, "--verifier", os.path.join(tmp, "none")]
            try:
                import onnxruntime  # noqa: F401
                self.skipTest("onnxruntime present: the check would run")
            except ImportError:
                pass
            with self.assertRaisesRegex(export_clip_onnx.ExportError, "--skip-check"):
                export_clip_onnx.main(args)
            self.assertFalse(os.path.exists(os.path.join(out, "model.onnx")))
            self.assertEqual(os.listdir(out), [])  # staging folder removed


if __name__ == "__main__":
    unittest.main()
