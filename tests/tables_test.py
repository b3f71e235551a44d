import math

import pytest

from alad_tf.tables import aggregate, format_mean_std, free_stem, markdown_table


def _summary(f1_ch, f1_fm, seconds):
    def metrics(f1):
        return {"precision": f1 / 2, "recall": f1, "f1": f1, "auroc": 0.5, "auprc": 0.25, "threshold": 1.0}

    return {"metrics": {"ch": metrics(f1_ch), "fm": metrics(f1_fm)}, "mean_inference_time_s": seconds}


def test_aggregate_mean_and_sample_std():
    table = aggregate([_summary(0.2, 0.5, 0.01), _summary(0.4, 0.5, 0.02), _summary(0.9, 0.5, 0.03)])
    assert list(table["score"]) == ["ch", "fm"]
    ch = table.set_index("score").loc["ch"]
    assert ch["seeds"] == 3
    assert ch["f1_mean"] == pytest.approx(0.5, abs=1e-12)
    # Deviations -0.3, -0.1, 0.4: squares sum to 0.26, over n - 1 = 2.
    assert ch["f1_std"] == pytest.approx(math.sqrt(0.13), abs=1e-12)
    assert ch["precision_mean"] == pytest.approx(0.25, abs=1e-12)
    assert ch["precision_std"] == pytest.approx(math.sqrt(0.13) / 2, abs=1e-12)
    assert ch["auroc_std"] == 0.0
    assert ch["mean_inference_time_s"] == pytest.approx(0.02, abs=1e-12)
    fm = table.set_index("score").loc["fm"]
    assert fm["f1_mean"] == pytest.approx(0.5, abs=1e-12)
    assert fm["f1_std"] == 0.0


def test_aggregate_single_run_has_no_std():
    table = aggregate([_summary(0.3, 0.6, 0.5)])
    assert table.loc[0, "f1_mean"] == pytest.approx(0.3)
    assert math.isnan(table.loc[0, "f1_std"])
    assert format_mean_std(table.loc[0, "f1_mean"], table.loc[0, "f1_std"]) == "0.3000"


def test_aggregate_counts_runs_per_score():
    partial = {"metrics": {"fm": {"f1": 0.7}}, "mean_inference_time_s": None}
    table = aggregate([_summary(0.2, 0.5, 0.01), partial]).set_index("score")
    assert table.loc["ch", "seeds"] == 1
    assert table.loc["fm", "seeds"] == 2
    assert table.loc["fm", "f1_mean"] == pytest.approx(0.6)
    # A metric that only one run has gets no std.
    assert math.isnan(table.loc["fm", "precision_std"])
    assert table.loc["fm", "mean_inference_time_s"] == pytest.approx(0.01)


def test_aggregate_of_no_runs_is_empty():
    table = aggregate([])
    assert table.empty
    assert "f1_mean" in table.columns


def test_format_mean_std():
    assert format_mean_std(0.65312, 0.17604) == "0.6531 ± 0.1760"
    assert format_mean_std(math.nan, math.nan) == "–"


def test_markdown_table_escapes_pipes():
    text = markdown_table(["a", "b"], [["x|y", 1]])
    assert text.splitlines() == ["| a | b |", "| --- | --- |", "| x\\|y | 1 |"]


def test_free_stem_skips_taken_names(tmp_path):
    assert free_stem(tmp_path, "seeds_summary", (".csv", ".md")) == "seeds_summary"
    (tmp_path / "seeds_summary.md").write_text("earlier")
    assert free_stem(tmp_path, "seeds_summary", (".csv", ".md")) == "seeds_summary_2"
    (tmp_path / "seeds_summary_2.csv").write_text("earlier")
    assert free_stem(tmp_path, "seeds_summary", (".csv", ".md")) == "seeds_summary_3"
