#!/usr/bin/env python3
"""Fixtures for the training/evaluation parity tests (src/test/resources/training/), made with scikit-learn 1.2.

features-train/, features-test/  features folders as `clipguard embed` writes them (model tiny-clip-test, 64-d):
    synthetic raw features with a planted direction: x = N(0, I) * scale + m + y * 1.2 * u (u a seeded unit vector,
    m a common offset, as CLIP features have), y in {0, 1}; typ 'real' or 'gen'. 300 train rows (120 gen),
    200 held-out rows.
sklearn-expected.json  for C = 1 on the L2-normalised rows: LogisticRegression(solver='liblinear', tol=1e-4) and
    LinearSVC(C=1, tol=1e-4) (squared hinge, dual = LIBLINEAR's L2R_L2LOSS_SVC_DUAL): coef, intercept, and the
    held-out roc_auc_score and balanced_accuracy_score of decision > 0.
scores.csv, scores-expected.csv  a score CSV with generator types of unequal size (ties: scores rounded to 0.1),
    two score columns, a failed row; and roc_auc_score / balanced_accuracy_score (score > threshold 0 for llr,
    0.5 for other) per generator against the real rows, as metrics.csv lays them out (tpr columns not included).

Usage: /usr/bin/python3 tools/make_training_fixtures.py [--out src/test/resources/training]
"""
import argparse
import csv
import hashlib
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.svm import LinearSVC

DIM = 64
MODEL = "models/tiny-clip-test"


def features_folder(path, x, typs):
    os.makedirs(path, exist_ok=True)
    np.save(os.path.join(path, "features.npy"), np.ascontiguousarray(x, dtype="<f4"))
    with open(os.path.join(path, "index.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["row", "filename", "typ", "error"])
        for i, t in enumerate(typs):
            w.writerow([i, f"{t}/{i:04d}.png", t, ""])
    manifest = json.load(open(os.path.join(MODEL, "manifest.json")))
    info = {"format": "clipguard-features/v1", "model_id": manifest["id"], "model_sha256": manifest["sha256"],
            "manifest_sha256": hashlib.sha256(open(os.path.join(MODEL, "manifest.json"), "rb").read()).hexdigest(),
            "dim": DIM, "rows": len(typs), "dtype": "float32", "l2_normalized": False,
            "preprocess": manifest["preprocess"], "date": "2026-11-29"}
    json.dump(info, open(os.path.join(path, "features.json"), "w"), indent=2, sort_keys=True)


def planted(rng, n_pos, n_neg, u, m):
    y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    rng.shuffle(y)
    x = rng.normal(0, 1, (len(y), DIM)) + m + 1.2 * y[:, None] * u
    return x.astype(np.float32), y


def normalise(x):
    x = x.astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="src/test/resources/training")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    u = rng.normal(0, 1, DIM)
    u /= np.linalg.norm(u)
    m = rng.normal(0, 0.5, DIM)
    x_train, y_train = planted(rng, 120, 180, u, m)
    x_test, y_test = planted(rng, 100, 100, u, m)
    typ = lambda y: ["gen" if v else "real" for v in y]
    features_folder(os.path.join(args.out, "features-train"), x_train, typ(y_train))
    features_folder(os.path.join(args.out, "features-test"), x_test, typ(y_test))

    expected = {"planted_direction": u.tolist()}
    xn, xt = normalise(x_train), normalise(x_test)
    for name, model in [("logreg", LogisticRegression(solver="liblinear", C=1.0, tol=1e-4)),
                        ("svm", LinearSVC(C=1.0, tol=1e-4, max_iter=1000))]:
        model.fit(xn, y_train)
        d = model.decision_function(xt)
        expected[name] = {"coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]),
                          "auc": roc_auc_score(y_test, d), "bacc": balanced_accuracy_score(y_test, d > 0)}
    json.dump(expected, open(os.path.join(args.out, "sklearn-expected.json"), "w"), indent=2)

    # Score CSV: generator types of unequal size, ties, a failed row, two score columns.
    rows = []
    counts = {"real": 37, "alpha": 11, "beta": 23, "gamma": 5}
    shift = {"real": 0.0, "alpha": 1.0, "beta": 0.4, "gamma": 2.0}
    for t, n in counts.items():
        for i in range(n):
            llr = round(float(rng.normal(shift[t] - 0.5, 1.0)), 1)
            other = round(float(1 / (1 + np.exp(-rng.normal(shift[t], 1.5)))), 2)
            rows.append([f"{t}/{i:03d}.jpg", t, llr, other])
    rng.shuffle(rows)
    rows.insert(5, ["beta/broken.jpg", "beta", "", ""])
    with open(os.path.join(args.out, "scores.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["filename", "typ", "llr", "other", "error"])
        for r in rows:
            w.writerow(r + (["CORRUPT: truncated"] if r[2] == "" else [""]))
    gens = sorted(t for t in counts if t != "real")
    with open(os.path.join(args.out, "scores-expected.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["score", "metric"] + gens + ["AVG"])
        for col, ci, thr in [("llr", 2, 0.0), ("other", 3, 0.5)]:
            aucs, baccs = [], []
            for g in gens:
                sel = [r for r in rows if r[1] in ("real", g) and r[ci] != ""]
                yy = np.array([r[1] != "real" for r in sel])
                s = np.array([float(r[ci]) for r in sel])
                aucs.append(roc_auc_score(yy, s))
                baccs.append(balanced_accuracy_score(yy, s > thr))
            w.writerow([col, "auc"] + [repr(v) for v in aucs] + [repr(float(np.mean(aucs)))])
            w.writerow([col, "bacc"] + [repr(v) for v in baccs] + [repr(float(np.mean(baccs)))])
    print("wrote", args.out)


if __name__ == "__main__":
    main()
