#!/usr/bin/python3
"""scikit-learn's time for tools/bench-train's protocol on the same features: reads DIR/features.npy (rows x dim,
float32) and DIR/labels.npy (rows x 1, 1 = generated), L2-normalises the rows, 5-fold StratifiedKFold over the six
C values with LogisticRegression(solver='liblinear', tol=1e-4) (bias as a regularised feature of value 1, like
clipguard's), Platt on the out-of-fold scores, then a final fit at the best C. Run it on one core with one BLAS
thread (tools/bench-train does: taskset -c 0, OMP/OPENBLAS/MKL_NUM_THREADS=1).
Usage: bench_train_reference.py DIR"""
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

CS = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


def main(folder):
    x = np.load(f"{folder}/features.npy").astype(np.float64)
    y = np.load(f"{folder}/labels.npy").reshape(-1) > 0.5
    wall, cpu = time.perf_counter(), time.process_time()
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)  # as clipguard normalises
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    best_auc, best_c, best_scores = -1.0, None, None
    for c in CS:
        last = time.perf_counter()
        scores = np.empty(len(y))
        for train, held in folds:
            model = LogisticRegression(C=c, solver="liblinear", tol=1e-4).fit(x[train], y[train])
            scores[held] = model.decision_function(x[held])
        auc = roc_auc_score(y, scores)
        print(f"  C={c:<8} cv AUC {auc:.4f}  {time.perf_counter() - last:.1f} s wall", flush=True)
        if auc > best_auc:  # ties keep the smaller C, as clipguard does
            best_auc, best_c, best_scores = auc, c, scores
    LogisticRegression(C=1e10, solver="lbfgs").fit(best_scores.reshape(-1, 1), y)  # Platt
    LogisticRegression(C=best_c, solver="liblinear", tol=1e-4).fit(x, y)
    print(f"sklearn {x.shape[0]} x {x.shape[1]}: {time.perf_counter() - wall:.1f} s wall,"
          f" {time.process_time() - cpu:.1f} s CPU; chosen C {best_c}, cv AUC {best_auc:.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
