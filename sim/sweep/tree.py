"""A decision tree of the outcome over the sampled uncertainties (CART, scikit-learn).

PRIM finds one box per outcome; a shallow classification tree (Breiman et al. 1984)
splits all the futures at once into a few readable branches: "if ρ ≤ 0.008 and λ̄ >
2.4, differentiated wins 71 % of runs". Categorical uncertainties enter as one column
per level ("network is complete" or not). The tree is kept shallow (depth 3) with
leaves of at least 5 % of the runs, so every branch rests on many runs; its 5-fold
cross-validated accuracy is given beside the accuracy of always guessing the most
frequent outcome (plain shuffled folds, seeded), so that a tree that explains little
says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .text import fmt

__all__ = ["MAX_DEPTH", "MIN_LEAF", "decision_tree"]

MAX_DEPTH = 3
#: A leaf holds at least this share of the runs.
MIN_LEAF = 0.05


def decision_tree(
    x: pd.DataFrame, outcome: np.ndarray, labels: dict[str, str], seed: int
) -> pd.DataFrame:
    """The tree as a table, one row per node: ``node``, ``parent`` (-1 at the root),
    ``depth``, ``condition`` (the split that leads to it, in words), ``runs``,
    ``outcome`` (the most frequent there) and its ``share``, ``counts`` (every outcome's
    runs, "a: 12; b: 3"), and at the root ``cv_accuracy`` and ``baseline_accuracy``."""
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    features, names = _features(x, labels)
    y = np.asarray(outcome, dtype=str)
    leaf = max(5, int(MIN_LEAF * len(y)))
    model = DecisionTreeClassifier(max_depth=MAX_DEPTH, min_samples_leaf=leaf, random_state=seed)
    model.fit(features, y)
    # plain shuffled folds (seeded): an outcome seen in a few futures only must not
    # forbid the check, as stratified folds would
    folds = KFold(n_splits=min(5, len(y)), shuffle=True, random_state=seed % 2**32)
    accuracy = (
        float(cross_val_score(model, features, y, cv=folds).mean()) if len(y) >= 4 else np.nan
    )
    baseline = float(pd.Series(y).value_counts(normalize=True).iloc[0])
    tree = model.tree_
    classes = list(model.classes_)
    rows: list[dict[str, Any]] = []

    def visit(node: int, parent: int, depth: int, condition: str) -> None:
        counts = tree.value[node][0] * tree.n_node_samples[node]  # fractions in sklearn >= 1.4
        counts = np.rint(counts).astype(int)
        best = int(np.argmax(counts))
        rows.append(
            {
                "node": node,
                "parent": parent,
                "depth": depth,
                "condition": condition,
                "runs": int(tree.n_node_samples[node]),
                "outcome": classes[best],
                "share": float(counts[best] / counts.sum()),
                "counts": "; ".join(f"{c}: {k}" for c, k in zip(classes, counts, strict=True) if k),
            }
        )
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            return
        column, threshold = names[tree.feature[node]], float(tree.threshold[node])
        no, yes = _split_words(column, threshold)
        visit(int(left), node, depth + 1, no)
        visit(int(right), node, depth + 1, yes)

    visit(0, -1, 0, "all runs")
    table = pd.DataFrame(rows)
    table["cv_accuracy"] = np.where(table["node"] == 0, accuracy, np.nan)
    table["baseline_accuracy"] = np.where(table["node"] == 0, baseline, np.nan)
    return table


def _features(x: pd.DataFrame, labels: dict[str, str]) -> tuple[pd.DataFrame, list[Any]]:
    """Numeric columns as they are; a categorical one as a 0/1 column per level. Each
    feature's description: (label, None) or (label, level)."""
    parts, names = [], []
    for key in x.columns:
        label = labels.get(key, key)
        if pd.api.types.is_numeric_dtype(x[key]) and not isinstance(
            x[key].dtype, pd.CategoricalDtype
        ):
            parts.append(x[key].astype(float).rename(key))
            names.append((label, None))
            continue
        text = x[key].astype(str)
        for level in sorted(text.unique()):
            parts.append((text == level).astype(float).rename(f"{key}={level}"))
            names.append((label, level))
    return pd.concat(parts, axis=1), names


def _split_words(feature: tuple[str, str | None], threshold: float) -> tuple[str, str]:
    """The two branches of a split, in words: (left, right)."""
    label, level = feature
    if level is not None:
        return f"{label} is not {level}", f"{label} is {level}"
    value = fmt(float(f"{threshold:.3g}"))
    return f"{label} ≤ {value}", f"{label} > {value}"
