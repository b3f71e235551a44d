"""Markdown report of every run under a log folder, for `python main.py report`.

The report reads the `summary.json` of each finished run: GAN runs written
by `run_experiment`, and baseline runs, whose summary has `"kind":
"baseline"` and `flags.baseline` naming the detector. Runs are grouped by
dataset, then threshold rule, then configuration (model, flags folder,
label, epochs, batch size and learning rate), and each configuration gets
the mean ± std over its runs (seeds) of every score.
"""

import dataclasses
import json
import os
from pathlib import Path

from alad_tf.tables import (
    METRIC_TITLES,
    SETTINGS_OUTSIDE_FOLDER_NAME,
    SUMMARY_METRICS,
    THRESHOLD_TITLES,
    aggregate,
    count_of,
    format_seconds,
    markdown_table,
    metric_cells,
)

# First line of every report; `write_report` replaces only files that start with it.
REPORT_TITLE = "# Results report"

# Plot files of a run, by `alad_tf.plots.RUN_PLOTS` name, with their column titles.
PLOT_TITLES = {
    "losses": "losses",
    "roc": "ROC",
    "precision_recall": "precision-recall",
    "score_histograms": "score histograms",
}


@dataclasses.dataclass
class RunRecord:
    """One finished run: its summary and where it lies."""

    summary_path: Path
    summary: dict

    @property
    def run_dir(self):
        return self.summary_path.parent

    @property
    def flags(self):
        return self.summary.get("flags", {})

    @property
    def is_baseline(self):
        return self.summary.get("kind") == "baseline"

    @property
    def model(self):
        if self.is_baseline:
            return f"baseline {self.flags.get('baseline', '?')}"
        return str(self.flags.get("model", "?"))

    @property
    def configuration(self):
        """Flags folder and label folder, as in `<model>/<dataset>/<flags>/label<L>/rd<seed>`."""
        return f"{self.run_dir.parent.parent.name}/{self.run_dir.parent.name}"

    @property
    def settings(self):
        """Settings that change results but not the run folder's name, as `flag=value` text."""
        return self.settings_text()

    def settings_text(self, full_path=False):
        """Return `settings`, with the table's whole path instead of its file name on request."""
        parts = []
        for flag in SETTINGS_OUTSIDE_FOLDER_NAME:
            value = self.flags.get(flag)
            if value in (None, False, [], "") or (flag == "d" and value == 1):
                continue
            if flag == "data_path" and not full_path:
                value = Path(value).name
            if isinstance(value, list):
                value = ",".join(map(str, value))
            parts.append(f"{flag}={value}")
        return " ".join(parts)

    @property
    def group_key(self):
        flags = self.flags
        return (
            str(flags.get("dataset", "?")),
            str(flags.get("threshold", "?")),
            self.is_baseline,
            self.model,
            self.configuration,
            flags.get("nb_epochs"),
            flags.get("batch_size"),
            flags.get("learning_rate"),
            self.settings,
            # Tables in different folders can share a file name, and so run folders.
            flags.get("data_path"),
        )

    def plot_paths(self):
        """Return the run's PNG plots that exist, by `PLOT_TITLES` name."""
        names = self.summary.get("plots") or {name: f"{name}.png" for name in PLOT_TITLES}
        paths = {name: self.run_dir / file_name for name, file_name in names.items()}
        return {name: path for name, path in paths.items() if path.is_file()}


@dataclasses.dataclass
class Report:
    """A written report: its Markdown, the tables part alone, and what it covers."""

    text: str
    tables_text: str
    path: Path
    run_count: int
    configuration_count: int
    replaced: bool


def find_runs(logdir):
    """Find the finished runs under `logdir`.

    Returns:
        A tuple `(runs, skipped, unfinished)`: `RunRecord`s sorted by path,
        `(path, reason)` pairs of `summary.json` files that could not be
        used, and run folders with a `config.json` but no `summary.json`
        (runs in progress, or runs that failed).
    """
    runs, skipped = [], []
    for path in sorted(Path(logdir).rglob("summary.json")):
        try:
            summary = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            skipped.append((path, f"unreadable: {error}"))
            continue
        if not isinstance(summary, dict) or not isinstance(summary.get("metrics"), dict):
            skipped.append((path, "no metrics"))
            continue
        runs.append(RunRecord(path, summary))
    unfinished = sorted(
        path.parent for path in Path(logdir).rglob("config.json")
        if not (path.parent / "summary.json").exists()
    )
    return runs, skipped, unfinished


def _link(target, base):
    """Return a Markdown link target for `target`, relative to the folder `base`."""
    relative = os.path.relpath(Path(target).resolve(), Path(base).resolve())
    return f"<{relative}>" if " " in relative else relative


def _format_rate(value):
    return "default" if value is None else f"{value:g}"


def _dataset_table(groups):
    """Return the Markdown table of one dataset and threshold rule: one row per configuration and score."""
    header = [
        "model", "configuration", "epochs", "learning rate", "score", "seeds",
        *(METRIC_TITLES[metric] for metric in SUMMARY_METRICS), "mean inference time (s)",
    ]
    rows = []
    for key, records in groups:
        table = aggregate([record.summary for record in records])
        epochs = _epochs_cell(key[5], records)
        for _, row in table.iterrows():
            rows.append([
                key[3], f"`{key[4]}`" + (f" ({key[8]})" if key[8] else ""), epochs,
                "–" if key[2] else _format_rate(key[7]), row["score"], row["seeds"],
                *metric_cells(row), format_seconds(row["mean_inference_time_s"]),
            ])
    return markdown_table(header, rows)


def _repeat_number(record):
    """Return the repeat number of a run folder: 1 for `rd7`, 2 for `rd7_2`."""
    _, _, repeat = record.run_dir.name.partition("_")
    return int(repeat) if repeat.isdigit() else 1


def _epochs_cell(nb_epochs, records):
    """Return the epochs cell: `--nb_epochs`, and for early-stopped runs the epochs trained and scored.

    Early stopping can end a run before `--nb_epochs` and restores the
    weights of the best validation epoch, which can come earlier still.
    """
    if nb_epochs is None:
        return "–"
    if not any(record.flags.get("enable_early_stop") for record in records):
        return str(nb_epochs)

    def span(values):
        values = sorted(set(values))
        return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"

    summaries = [record.summary for record in records]
    # `epoch_used` counts from 0, so it is one less than the epochs behind the weights.
    scored = [
        summary["epoch_used"] + 1 for summary in summaries
        if isinstance(summary.get("epoch_used"), int)
    ]
    trained = [
        summary["initial_epoch"] + summary["epochs_run"] for summary in summaries
        if isinstance(summary.get("initial_epoch"), int) and isinstance(summary.get("epochs_run"), int)
    ]
    details = []
    if trained:
        details.append(f"trained {span(trained)}")
    if scored:
        details.append(f"scored after {span(scored)}")
    return f"{nb_epochs} ({', '.join(details)})" if details else str(nb_epochs)


def _group_title(key):
    """Return the heading of one configuration's group of runs, with every setting that sets it apart."""
    details = [f"`{key[4]}`" + (f" ({key[8]})" if key[8] else "")]
    if key[5] is not None:
        details.append(f"{key[5]} epochs")
    if key[6] is not None:
        details.append(f"batch {key[6]}")
    if key[7] is not None:
        details.append(f"learning rate {_format_rate(key[7])}")
    details.append(THRESHOLD_TITLES.get(key[1], key[1]))
    return ", ".join(details)


def _plots_section(groups, base):
    """Return Markdown links to every run's plots, and the first run's plots embedded."""
    parts = []
    for key, records in groups:
        with_plots = [record for record in records if record.plot_paths()]
        if not with_plots:
            continue
        parts += [f"#### {key[3]}: {_group_title(key)}", ""]
        rows = []
        for record in with_plots:
            paths = record.plot_paths()
            cells = [
                f"[{title}]({_link(paths[name], base)})" if name in paths else "–"
                for name, title in PLOT_TITLES.items()
            ]
            rows.append([f"`{record.run_dir.name}`", record.flags.get("rd", "?"), *cells])
        parts += [markdown_table(["run", "seed", *PLOT_TITLES.values()], rows), ""]
        first = with_plots[0]
        for name, path in first.plot_paths().items():
            parts += [f"![{PLOT_TITLES.get(name, name)} of {first.run_dir.name}]({_link(path, base)})", ""]
    return parts


def _sweep_section(logdir, base):
    sweeps = sorted(Path(logdir).rglob("lr_sweep*.md"))
    if not sweeps:
        return []
    parts = ["## Learning-rate sweeps", ""]
    for path in sweeps:
        parts.append(f"- [{path.parent.relative_to(logdir)}/{path.name}]({_link(path, base)})")
        plot = path.with_name(f"{path.stem}_f1.png")
        if plot.is_file():
            parts.append(f"\n  ![F1 against learning rate]({_link(plot, base)})")
    parts.append("")
    return parts


def _threshold_order(threshold):
    order = list(THRESHOLD_TITLES)
    return (order.index(threshold) if threshold in order else len(order), threshold)


def _no_runs_message(logdir, skipped, unfinished):
    """Return the one-line error for a log folder without any finished run."""
    notes = ""
    if unfinished:
        notes += (
            f" Found {count_of(len(unfinished), 'run folder')} without summary.json, in "
            f"progress or failed."
        )
    if skipped:
        notes += (
            f" Found {count_of(len(skipped), 'summary.json file')} that could not be read "
            f"or had no metrics."
        )
    return (
        f"Log folder {logdir} contains no run folders with results (a summary.json with "
        f"metrics).{notes} Pass the --logdir of finished runs."
    )


def build_report(logdir, output_path):
    """Return the report Markdown of `logdir`, with links relative to `output_path`'s folder.

    Returns:
        A tuple `(text, tables_text, run_count, configuration_count)`.

    Raises:
        ValueError: If `logdir` contains no finished run.
    """
    logdir = Path(logdir).expanduser()
    base = Path(output_path).parent
    runs, skipped, unfinished = find_runs(logdir)

    grouped = {}
    for record in runs:
        grouped.setdefault(record.group_key, []).append(record)
    # A seed run twice with the same settings counts once: its latest run,
    # the one with the highest repeat number (`rd1`, `rd1_2`, …, `rd1_10`).
    superseded = []
    for key, records in grouped.items():
        latest = {}
        for record in sorted(records, key=_repeat_number):
            seed = record.flags.get("rd")
            if seed in latest:
                superseded.append(latest[seed].run_dir)
            latest[seed] = record
        grouped[key] = sorted(latest.values(), key=lambda record: str(record.summary_path))
    # Groups that differ only in the table's folder show the table's whole path.
    keys_by_label = {}
    for key in grouped:
        keys_by_label.setdefault(key[:9], []).append(key)
    for keys in keys_by_label.values():
        if len(keys) > 1:
            for key in keys:
                records = grouped.pop(key)
                grouped[key[:8] + (records[0].settings_text(full_path=True),) + key[9:]] = records
    # GAN rows before baseline rows, then by model and configuration.
    keys = sorted(grouped, key=lambda key: (key[0], _threshold_order(key[1]), key[2:5], str(key[5:])))

    intro = [
        REPORT_TITLE,
        "",
        f"Generated by `python main.py report --logdir {logdir}` from "
        f"{count_of(len(runs), 'finished run')} in {count_of(len(keys), 'configuration')}.",
        "",
        "Each row is one score of one configuration: the mean ± sample standard deviation "
        "(ddof 1) over its runs, one per seed, or the value alone for a single run. The "
        "inference time of GAN runs is the mean wall time of one scoring batch; baseline "
        "runs record their own.",
        "",
    ]
    if superseded:
        intro += [
            f"{count_of(len(superseded), 'earlier run')} of a seed run again with the same "
            f"settings left out (the latest run of each seed counts): "
            + ", ".join(f"`{path.relative_to(logdir)}`" for path in sorted(superseded)),
            "",
        ]
    if unfinished:
        intro += [
            f"{count_of(len(unfinished), 'run folder')} without summary.json (in progress "
            f"or failed) left out: " + ", ".join(f"`{path.relative_to(logdir)}`" for path in unfinished),
            "",
        ]
    if skipped:
        intro += [
            f"{count_of(len(skipped), 'summary.json file')} skipped: "
            + "; ".join(f"`{path.relative_to(logdir)}` ({reason})" for path, reason in skipped),
            "",
        ]
    if not runs:
        raise ValueError(_no_runs_message(logdir, skipped, unfinished))

    tables, plot_parts = [], []
    for dataset in sorted({key[0] for key in keys}):
        tables += [f"## {dataset}", ""]
        plot_groups = []
        for threshold in sorted({key[1] for key in keys if key[0] == dataset}, key=_threshold_order):
            groups = [(key, grouped[key]) for key in keys if key[:2] == (dataset, threshold)]
            plot_groups += groups
            tables += [
                f"### {THRESHOLD_TITLES.get(threshold, threshold).capitalize()}", "",
                _dataset_table(groups), "",
            ]
        section = _plots_section(plot_groups, base)
        if section:
            plot_parts += [f"## {dataset}: plots", "", *section]

    tables_text = "\n".join(intro + tables)
    text = "\n".join(intro + tables + plot_parts + _sweep_section(logdir, base))
    return text, tables_text, len(runs), len(keys)


def _is_report(path):
    """Return whether the file at `path` is empty or starts with the title that `build_report` writes.

    An empty file, such as one from `mktemp`, has nothing to lose.
    """
    try:
        if os.path.getsize(path) == 0:
            return True
        with open(path, encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") == REPORT_TITLE
    except (OSError, UnicodeDecodeError):
        return False


def write_report(logdir, output=None):
    """Write the Markdown report of every run under `logdir`.

    Args:
        logdir: Log folder to search for `summary.json` files, at any depth.
        output: Markdown file to write. Defaults to `report.md` in `logdir`.
            An existing report or empty file is replaced, and
            `Report.replaced` is then true. Any other existing file is kept,
            and `ValueError` is raised.

    Returns:
        A `Report`.

    Raises:
        ValueError: If `logdir` is not a folder or contains no finished run,
            or `output` is a folder, an existing file other than a report,
            or cannot be written. No file is written then.
    """
    logdir = Path(logdir).expanduser()
    if logdir.exists() and not logdir.is_dir():
        raise ValueError(
            f"Invalid --logdir {logdir}: it is a file, not a folder. Pass the --logdir "
            f"that contains your runs."
        )
    if not logdir.is_dir():
        raise ValueError(f"Log folder {logdir} not found. Pass the --logdir that contains your runs.")
    output = Path(output).expanduser() if output else logdir / "report.md"
    if output.is_dir():
        raise ValueError(f"Invalid --output {output}: it is a folder. Pass a file path such as report.md.")
    for folder in output.parents:
        if folder.exists() and not folder.is_dir():
            raise ValueError(
                f"Invalid --output {output}: {folder} is a file, not a folder. Pass a file "
                f"path in a folder."
            )
    if output.exists() and not _is_report(output):
        raise ValueError(
            f"Invalid --output {output}: the file exists and is not a report that this "
            f"command wrote, so it is kept. Pass another --output, or remove the file first."
        )

    text, tables_text, run_count, configuration_count = build_report(logdir, output)
    replaced = output.exists()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as error:
        raise ValueError(
            f"Failed to write the report to {output}: {error.strerror}. Pass an --output in a "
            f"folder you can write to."
        ) from None
    return Report(text, tables_text, output, run_count, configuration_count, replaced)
