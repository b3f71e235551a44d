"""Several runs of one configuration: seeds and learning-rate sweeps, with summary tables.

`run_seeds` and `run_sweep` call `run_experiment` once per run, so each run
keeps its own run folder, then write their tables next to those folders:

```python
from alad_tf.experiment import RunConfig
from alad_tf.experiments import run_seeds

result = run_seeds(RunConfig(model="alad", dataset="arrhythmia"), seeds=[1, 2, 3])
result.table  # one row per score: mean and std over the seeds
```
"""

import dataclasses
import math
import time
from pathlib import Path

import pandas as pd
from absl import logging

from alad_tf import plots, results
from alad_tf.experiment import run_experiment
from alad_tf.models import MODELS
from alad_tf.tables import (
    INFERENCE_TITLE,
    METRIC_TITLES,
    SUMMARY_METRICS,
    THRESHOLD_TITLES,
    aggregate,
    count_of,
    format_seconds,
    free_stem,
    markdown_table,
    metric_cells,
)

# Largest accepted seed, as for the detectors' random_state: NumPy seeds
# must be below 2**32.
MAX_SEED = 2**32 - 1

# Start of the `ValueError` message of `run_experiment` when a loss is not finite.
DIVERGED_MESSAGE = "Training diverged"

# Metrics of the learning-rate table of the primary score.
SWEEP_METRICS = ("precision", "recall", "f1")


def parse_seeds(text):
    """Parse `--rd`: one seed, or a comma-separated list of distinct seeds such as `1,2,3`.

    Raises:
        ValueError: If an item is not an integer from 0 to `MAX_SEED`, or a
            seed appears twice.
    """
    seeds = []
    for item in str(text).split(","):
        item = item.strip()
        try:
            seed = int(item)
        except ValueError:
            seed = None
        if seed is None or not 0 <= seed <= MAX_SEED:
            raise ValueError(
                f"Invalid --rd {text!r}: {item!r} is not a seed. Expected an integer from 0 "
                f"to {MAX_SEED}, or a comma-separated list of them such as 1,2,3."
            )
        if seed in seeds:
            raise ValueError(f"Invalid --rd {text!r}: seed {seed} appears twice.")
        seeds.append(seed)
    return seeds


def parse_learning_rates(text):
    """Parse `--learning_rates`: a comma-separated list of distinct positive numbers such as `1e-5,1e-4`.

    Raises:
        ValueError: If the list is missing, an item is not a positive finite
            number, or a rate appears twice.
    """
    if text is None or not str(text).strip():
        raise ValueError(
            "The sweep mode needs --learning_rates, a comma-separated list of learning "
            "rates such as 1e-5,1e-4,1e-3."
        )
    rates = []
    for item in str(text).split(","):
        item = item.strip()
        try:
            rate = float(item)
        except ValueError:
            rate = math.nan
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(
                f"Invalid --learning_rates {text!r}: {item!r} is not a positive number. "
                f"Expected a comma-separated list such as 1e-5,1e-4,1e-3."
            )
        if rate in rates:
            raise ValueError(f"Invalid --learning_rates {text!r}: {rate:g} appears twice.")
        rates.append(rate)
    return rates


@dataclasses.dataclass
class RunOutcome:
    """Result of one run of a multi-run command: its summary, or the error that ended it."""

    seed: int
    learning_rate: float | None
    summary: dict | None = None
    error: str | None = None

    @property
    def failed(self):
        return self.summary is None


@dataclasses.dataclass
class SeedRuns:
    """Runs of `run_seeds`, their summary table and the files it was written to."""

    outcomes: list
    table: pd.DataFrame
    csv_path: Path
    markdown_path: Path
    markdown: str

    @property
    def summaries(self):
        return [outcome.summary for outcome in self.outcomes if not outcome.failed]

    @property
    def failures(self):
        return [outcome for outcome in self.outcomes if outcome.failed]


@dataclasses.dataclass
class Sweep:
    """Runs of `run_sweep`, their table, the best learning rate and the files written."""

    outcomes: list
    table: pd.DataFrame
    best_learning_rate: float | None
    csv_path: Path
    markdown_path: Path
    plot_path: Path
    markdown: str

    @property
    def failures(self):
        return [outcome for outcome in self.outcomes if outcome.failed]


class RunProgress:
    """Print a progress bar line after each run of a multi-run command.

    A line per finished run, rather than one redrawn line, keeps the bar
    apart from the training bar and the log lines of the runs.

    Args:
        total: Number of runs.
        label: First word of each line, for example `Seeds`.
        enabled: Whether anything is printed.
    """

    WIDTH = 30

    def __init__(self, total, label, enabled=True):
        self.total = total
        self.label = label
        self.enabled = enabled
        self.done = 0
        self.start = time.time()

    def advance(self, description):
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.time() - self.start
        remaining = elapsed / self.done * (self.total - self.done)
        filled = round(self.WIDTH * self.done / self.total)
        bar = "━" * filled + "─" * (self.WIDTH - filled)
        print(
            f"{self.label} {self.done}/{self.total} {bar} {_format_minutes(elapsed)} elapsed, "
            f"{_format_minutes(remaining)} left (estimate) - {description}",
            flush=True,
        )


def _format_minutes(seconds):
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _check_multi_run(config, runs):
    if config.export_dir and runs > 1:
        raise ValueError(
            f"--export_dir copies one SavedModel, but this command starts {runs} runs. "
            f"Drop --export_dir; every run folder has its own saved_model/."
        )


def _run_one(config):
    """Run `config`, recording a diverged training as a failed `RunOutcome` instead of raising."""
    try:
        summary = run_experiment(config)
    except ValueError as error:
        if not str(error).startswith(DIVERGED_MESSAGE):
            raise
        logging.warning(
            "Run with seed %d and learning rate %s failed: %s", config.rd, config.learning_rate, error
        )
        return RunOutcome(config.rd, config.learning_rate, error=str(error))
    return RunOutcome(config.rd, config.learning_rate, summary=summary)


def _describe_outcome(outcome, primary):
    if outcome.failed:
        return f"seed {outcome.seed}: failed ({outcome.error.split('.')[0]})"
    values = outcome.summary["metrics"][primary]
    if "f1" not in values:
        return f"seed {outcome.seed}: {primary} flagged {values['flagged']} rows"
    return f"seed {outcome.seed}: {primary} F1 {values['f1']:.4f}, AUROC {values['auroc']:.4f}"


def _primary_score(config):
    return MODELS[config.model].primary_scores.get(config.m, config.m)


def _label_folder(config):
    """Return the folder that contains the seed folders of `config`."""
    return Path(config.logdir).expanduser() / results.run_folder_name(config).parent


def _settings_lines(config, outcomes, with_learning_rate):
    """Return Markdown list items of the settings shared by the runs.

    Settings left to the model's default are read back from a finished run.
    """
    done = [outcome.summary for outcome in outcomes if not outcome.failed]
    flags = done[0]["flags"] if done else dataclasses.asdict(config)
    settings = [f"epochs: {flags['nb_epochs']}", f"batch size: {flags['batch_size']}"]
    if with_learning_rate:
        settings.append(f"learning rate: {flags['learning_rate']}")
    return [
        f"- configuration: `{_label_folder(config).parent.name}`, label {config.label}",
        f"- threshold: {THRESHOLD_TITLES.get(config.threshold, config.threshold)}",
        "- " + ", ".join(setting.replace("None", "default") for setting in settings),
    ]


def _run_folder_lines(outcomes, with_learning_rate):
    """Return a Markdown list item per run: its folder, or why it failed."""
    lines = []
    for outcome in outcomes:
        run = f"seed {outcome.seed}"
        if with_learning_rate:
            run = f"learning rate {outcome.learning_rate:g}, {run}"
        if outcome.failed:
            lines.append(f"- {run}: failed. {outcome.error}")
        else:
            run_dir = Path(outcome.summary["run_dir"])
            lines.append(f"- {run}: `{run_dir.parent.parent.name}/{run_dir.parent.name}/{run_dir.name}`")
    return lines


def seeds_markdown(config, outcomes, table):
    """Return the Markdown summary of `run_seeds`: settings, then one row per score."""
    header = ["score", "seeds", *(METRIC_TITLES[m] for m in SUMMARY_METRICS), INFERENCE_TITLE]
    rows = [
        [row["score"], row["seeds"], *metric_cells(row), format_seconds(row["mean_inference_time_s"])]
        for _, row in table.iterrows()
    ]
    parts = [
        f"# {config.model.upper()} on {config.dataset}: {count_of(len(outcomes), 'seed')}",
        "",
        *_settings_lines(config, outcomes, with_learning_rate=True),
        "",
        "Mean ± sample standard deviation (ddof 1) over the seeds that finished.",
        "",
        markdown_table(header, rows) if rows else "No run finished.",
        "",
        "Runs:",
        "",
        *_run_folder_lines(outcomes, with_learning_rate=False),
        "",
    ]
    return "\n".join(parts)


def run_seeds(config, seeds, verbose=None):
    """Run one configuration once per seed, then write the mean ± std table over the seeds.

    Each seed runs `run_experiment` with `rd` set to it, in its own run folder.
    A run whose training diverged is recorded as failed, and the other seeds
    still run. Any other error is raised.

    Args:
        config: A `RunConfig`; its `rd` is ignored.
        seeds: List of seeds.
        verbose: Whether to print a progress line per run. Defaults to
            `config.verbose`.

    Returns:
        A `SeedRuns`. The table, from `aggregate`, is written as
        `seeds_summary.csv` and `seeds_summary.md` in the folder of the seed
        folders (`<logdir>/<model>/<dataset>/<flags>/label<L>/`), or as
        `seeds_summary_2.*`, … when those exist.
    """
    if not seeds:
        raise ValueError("run_seeds needs at least one seed.")
    _check_multi_run(config, len(seeds))
    for seed in seeds:
        dataclasses.replace(config, rd=seed).validate()
    verbose = config.verbose if verbose is None else verbose
    primary = _primary_score(config)
    progress = RunProgress(len(seeds), "Seeds", enabled=verbose >= 1)

    outcomes = []
    for seed in seeds:
        outcome = _run_one(dataclasses.replace(config, rd=seed))
        outcomes.append(outcome)
        progress.advance(_describe_outcome(outcome, primary))

    table = aggregate([outcome.summary for outcome in outcomes if not outcome.failed])
    folder = _label_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    stem = free_stem(folder, "seeds_summary", (".csv", ".md"))
    csv_path, markdown_path = folder / f"{stem}.csv", folder / f"{stem}.md"
    table.to_csv(csv_path, index=False)
    markdown = seeds_markdown(config, outcomes, table)
    markdown_path.write_text(markdown)
    logging.info("Summary of %d seeds written to %s and %s", len(seeds), csv_path, markdown_path)
    return SeedRuns(outcomes, table, csv_path, markdown_path, markdown)


def sweep_table(outcomes, learning_rates, primary):
    """Build the sweep table: one row per (learning rate, score), mean and std over seeds.

    Args:
        outcomes: `RunOutcome`s of every (learning rate, seed).
        learning_rates: Learning rates in table order.
        primary: Name of the primary score.

    Returns:
        A DataFrame with the columns of `aggregate`, plus:

        - `learning_rate`.
        - `primary`: whether the row is the primary score.
        - `failed`: the number of failed runs.
        - `status`: `ok`, `some runs failed` or `failed`.
        - `failures`: each failed seed and its error.
        - `best`: true on the primary row of the learning rate with the
          highest mean F1.

        A learning rate whose runs all failed has one row, for the primary
        score, with missing metrics.
    """
    frames = []
    for rate in learning_rates:
        runs = [outcome for outcome in outcomes if outcome.learning_rate == rate]
        done = [outcome.summary for outcome in runs if not outcome.failed]
        failed = [outcome for outcome in runs if outcome.failed]
        frame = aggregate(done)
        if frame.empty:
            frame = pd.DataFrame([{"score": primary, "seeds": 0}], columns=frame.columns)
        frame.insert(0, "learning_rate", rate)
        frame.insert(2, "primary", frame["score"] == primary)
        frame["failed"] = len(failed)
        if not done:
            frame["status"] = "failed"
        elif failed:
            frame["status"] = "some runs failed"
        else:
            frame["status"] = "ok"
        frame["failures"] = "; ".join(f"seed {outcome.seed}: {outcome.error}" for outcome in failed)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table["best"] = False
    candidates = table[table["primary"] & table["f1_mean"].notna()]
    if not candidates.empty:
        table.loc[candidates["f1_mean"].astype(float).idxmax(), "best"] = True
    return table


def sweep_markdown(config, outcomes, table, primary, plot_name):
    """Return the Markdown of a sweep: the primary score per learning rate, then every score."""
    seeds = sorted({outcome.seed for outcome in outcomes})
    primary_rows = []
    for _, row in table[table["primary"]].iterrows():
        rate = f"{row['learning_rate']:g}"
        if row["best"]:
            rate = f"**{rate} (best)**"
        status = "ok"
        if row["failed"]:
            status = f"failed: {row['failed']} of {row['failed'] + row['seeds']} runs (see Runs)"
        primary_rows.append([
            rate, row["seeds"], *metric_cells(row, SWEEP_METRICS),
            format_seconds(row["mean_inference_time_s"]), status,
        ])
    header = [
        "learning rate", "seeds", *(METRIC_TITLES[m] for m in SWEEP_METRICS), INFERENCE_TITLE, "status",
    ]
    all_rows = [
        [f"{row['learning_rate']:g}", row["score"], row["seeds"], *metric_cells(row)]
        for _, row in table[table["seeds"] > 0].iterrows()
    ]
    all_header = ["learning rate", "score", "seeds", *(METRIC_TITLES[m] for m in SUMMARY_METRICS)]
    parts = [
        f"# {config.model.upper()} on {config.dataset}: learning-rate sweep",
        "",
        *_settings_lines(config, outcomes, with_learning_rate=False),
        f"- seeds run for each learning rate: {', '.join(map(str, seeds))}",
        "",
        f"Primary score `{primary}` (`--m {config.m}`): mean ± sample standard deviation "
        f"(ddof 1) over the seeds that finished. The best learning rate has the highest "
        f"mean F1.",
        "",
        markdown_table(header, primary_rows),
        "",
        "## Every score",
        "",
        markdown_table(all_header, all_rows) if all_rows else "No run finished.",
        "",
        f"![F1 against learning rate]({plot_name})",
        "",
        "## Runs",
        "",
        *_run_folder_lines(outcomes, with_learning_rate=True),
        "",
    ]
    return "\n".join(parts)


def run_sweep(config, learning_rates, seeds, verbose=None):
    """Run every (learning rate, seed) pair, then write the table and plot of F1 against the rate.

    Every run has its own run folder, and a learning rate other than the
    reference one adds `_lr<rate>` to its flags folder. A run whose training
    diverged is recorded as failed, and the sweep goes on.

    Args:
        config: A `RunConfig`; its `learning_rate` and `rd` are ignored.
        learning_rates: List of learning rates.
        seeds: List of seeds, run for each learning rate.
        verbose: Whether to print a progress line per run. Defaults to
            `config.verbose`.

    Returns:
        A `Sweep`. Its table (see `sweep_table`) is written as
        `lr_sweep.csv`, `lr_sweep.md` and `lr_sweep_f1.png` (F1 against the
        learning rate) in the label folder of the reference learning rate
        (`<logdir>/<model>/<dataset>/<flags>/label<L>/`), or with the stem
        `lr_sweep_2`, … when those exist. The plot also goes to TensorBoard
        under `<stem>_plots/`.
    """
    if not learning_rates or not seeds:
        raise ValueError("run_sweep needs at least one learning rate and one seed.")
    _check_multi_run(config, len(learning_rates) * len(seeds))
    runs = [
        dataclasses.replace(config, learning_rate=rate, rd=seed)
        for rate in learning_rates
        for seed in seeds
    ]
    for run in runs:
        run.validate()
    verbose = config.verbose if verbose is None else verbose
    primary = _primary_score(config)
    progress = RunProgress(len(runs), "Sweep", enabled=verbose >= 1)

    outcomes = []
    for run in runs:
        outcome = _run_one(run)
        outcomes.append(outcome)
        progress.advance(f"learning rate {run.learning_rate:g}, {_describe_outcome(outcome, primary)}")

    table = sweep_table(outcomes, learning_rates, primary)
    best = table.loc[table["best"], "learning_rate"]
    best_rate = float(best.iloc[0]) if len(best) else None

    folder = _label_folder(dataclasses.replace(config, learning_rate=None))
    folder.mkdir(parents=True, exist_ok=True)
    stem = free_stem(folder, "lr_sweep", (".csv", ".md", "_f1.png", "_plots"))
    csv_path, markdown_path = folder / f"{stem}.csv", folder / f"{stem}.md"
    plot_path = folder / f"{stem}_f1.png"
    table.to_csv(csv_path, index=False)
    plots.plot_sweep(table, primary, plot_path)
    plots.write_tensorboard_images(folder / f"{stem}_plots", {"sweep/f1_vs_learning_rate": plot_path}, 0)
    markdown = sweep_markdown(config, outcomes, table, primary, plot_path.name)
    markdown_path.write_text(markdown)
    logging.info("Sweep table written to %s, %s and %s", csv_path, markdown_path, plot_path)
    return Sweep(outcomes, table, best_rate, csv_path, markdown_path, plot_path, markdown)
