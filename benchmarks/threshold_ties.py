"""Show how rows tied at each score's threshold change a run's F1.

The reference rule flags rows with `score >= threshold`, so a block of
identical test rows whose score equals the threshold is flagged whole. The
script finds every run folder under the given folders and prints a Markdown
row per labelled score. A row gives the rows tied at the stored threshold, the
share of rows flagged, and F1 with the reference rule and with a strict
`score > threshold`, which leaves the tied block out.

Usage:
    python benchmarks/threshold_ties.py logs/bigan/kdd

Reads `summary.json` (the threshold of each score) and `test_scores.npz` (the
scores and labels) of every run folder; runs without labels are left out.
"""

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score


def run_rows(run_dir):
    """Return the table rows of one run folder, one per labelled score."""
    summary = json.loads((run_dir / "summary.json").read_text())
    arrays = np.load(run_dir / "test_scores.npz")
    if "y_test" not in arrays.files:
        return []
    labels = arrays["y_test"].astype(int)
    rows = []
    for name, values in summary["metrics"].items():
        scores = arrays[name].astype(np.float64)
        threshold = values["threshold"]
        inclusive = scores >= threshold
        strict = scores > threshold
        rows.append(
            [
                str(run_dir),
                name,
                f"{int((scores == threshold).sum()):,}",
                f"{100 * inclusive.mean():.1f} %",
                f"{f1_score(labels, inclusive, zero_division=0):.4f}",
                f"{f1_score(labels, strict, zero_division=0):.4f}",
            ]
        )
    return rows


def main(folders):
    if not folders:
        raise SystemExit("Usage: python benchmarks/threshold_ties.py FOLDER [FOLDER ...]")
    run_dirs = sorted(
        path.parent
        for folder in folders
        for path in Path(folder).rglob("test_scores.npz")
        if (path.parent / "summary.json").is_file()
    )
    if not run_dirs:
        raise SystemExit(
            f"No run folder with test_scores.npz and summary.json under {', '.join(folders)}. "
            "Pass the --logdir of finished runs, or a folder inside it."
        )
    header = ["run", "score", "tied rows", "flagged", "F1, score >= threshold", "F1, score > threshold"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for run_dir in run_dirs:
        for row in run_rows(run_dir):
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
