"""Command line: `python main.py MODEL MODE [flags]` or `python main.py report [flags]`.

MODEL MODE is for example `alad run` (one run, or one per seed of a --rd
list) or `bigan sweep` (a learning-rate sweep).

`python main.py baselines run [flags]` runs the scikit-learn and untrained-ALAD
baselines of `alad_tf.baselines` under the same protocol.

Flags mirror the original ALAD and EGBAD command lines. Run with --help for
every flag, its unit and its default.
"""

import re
import shlex
import sys
from pathlib import Path

from absl import app, flags

FLAGS = flags.FLAGS

# Choices of the positional arguments and enum flags, written out here so
# that --help and usage errors do not import TensorFlow, Keras or pandas.
# tests/cli_test.py checks them against alad_tf.data.LOADERS,
# alad_tf.models.MODELS and alad_tf.evaluation.THRESHOLD_MODES.
DATASETS = ("arrhythmia", "csv", "kdd", "mnist")
MODEL_NAMES = ("alad", "bigan")
THRESHOLD_MODES = ("test_percentile", "train_percentile")

flags.DEFINE_enum("dataset", "kdd", list(DATASETS), "Dataset to train and test on.")
flags.DEFINE_integer(
    "nb_epochs", None,
    "Number of training epochs (full passes over the training rows). Default: the "
    "model's default for the dataset (kdd: 10; csv: about 40,000 training steps, "
    "10 to 1,000 epochs). 0 scores the untrained model. With --resume, the run's "
    "--nb_epochs scores it again and a larger value trains on, unless early stopping "
    "ended the run.",
    lower_bound=0,
)
flags.DEFINE_integer(
    "label", 0,
    "mnist: the anomalous digit (0 to 9); the nine others are normal. kdd and "
    "arrhythmia: no effect (the run folder records it).",
)
flags.DEFINE_enum(
    "m", "fm", ["cross-e", "fm"],
    "Primary score, used for the exported model's decision. ALAD: cross-e picks the "
    "ch score, fm the feature-matching score (all four are always reported). BiGAN: "
    "the discriminator term of the score, cross-entropy or feature matching (both "
    "variants are always reported).",
)
flags.DEFINE_float("w", 0.1, "BiGAN: weight w of the discriminator term in (1 - w) * reconstruction + w * discriminator term (0 to 1). Not accepted by alad.")
flags.DEFINE_integer("d", 1, "Norm degree of the feature-matching (fm) score.", lower_bound=1)
flags.DEFINE_string(
    "rd", "42",
    "Random seed of Python, NumPy, TensorFlow, data shuffling and latent sampling "
    "(0 to 4294967295). A comma-separated list such as 1,2,3 starts one run per seed, "
    "each in its own run folder, and writes a mean ± std table over the seeds.",
)
flags.DEFINE_string(
    "learning_rates", None,
    "sweep: comma-separated Adam learning rates, for example 1e-5,1e-4,1e-3. Each "
    "runs once per --rd seed.",
)
flags.DEFINE_integer(
    "verbose", 1,
    "1: progress bars for training (when standard output is a terminal) and for the "
    "runs of a seed list or sweep. 0: no progress bars. The log lines are the same.",
    lower_bound=0, upper_bound=1,
)
flags.DEFINE_string(
    "output", None, "report: Markdown file to write. Default: report.md in --logdir.",
)
flags.DEFINE_bool(
    "enable_sm", False,
    "Also write per-batch loss summaries to TensorBoard (one training step per "
    "tf.function call, so slower).",
)
flags.DEFINE_bool(
    "enable_dzz", False,
    "ALAD: add the D_zz latent cycle term to the generator and encoder losses, and log "
    "the D_zz losses. D_zz trains either way.",
)
flags.DEFINE_bool(
    "enable_early_stop", False,
    "Stop when the mean validation score (ALAD: fm; BiGAN: the --m score) has not "
    "decreased for 11 epochs and score "
    "with the best epoch's weights. Holds out 10 % of the training rows.",
)
flags.DEFINE_bool("sn", False, "Spectrally normalise the discriminators' hidden layers.")
flags.DEFINE_string(
    "data_dir", None,
    "Folder searched first for dataset files, before $ALAD_TF_DATA_DIR, ./data and "
    "the Keras cache (~/.keras/datasets).",
)
flags.DEFINE_string("logdir", "logs", "Folder of run folders, TensorBoard logs and the global results.csv.")
flags.DEFINE_integer(
    "batch_size", None, "Rows per training step and per scoring chunk. Default: the reference value (kdd: 50).",
    lower_bound=1,
)
flags.DEFINE_float(
    "learning_rate", None, "Adam learning rate. Default: the reference value (kdd: 1e-5).",
)
flags.DEFINE_enum(
    "threshold", "test_percentile", list(THRESHOLD_MODES),
    "Decision threshold rule. test_percentile: the reference code's rule, a percentile of the "
    "test scores at the known contamination (kdd: 80th). train_percentile: a "
    "percentile of held-out training scores (default 95th), with no test prior.",
)
flags.DEFINE_float(
    "threshold_percentile", None,
    "Percentile (0 to 100) overriding the threshold rule's default.",
    lower_bound=0, upper_bound=100,
)
flags.DEFINE_bool(
    "scale", None,
    "MinMax-scale tabular features, fitted on the training rows. Default: off for "
    "kdd and arrhythmia, as the reference ALAD and EGBAD code never scales; on for "
    "csv (--noscale turns it off). The exported model takes unscaled rows.",
)
flags.DEFINE_bool(
    "clean_train", False,
    "arrhythmia: drop the anomalies from the training half. The reference code "
    "keeps them (34 of 226 rows).",
)
flags.DEFINE_string(
    "data_path", None, "csv: the table to train and test on, a CSV file (.gz accepted) or a Parquet file.",
)
flags.DEFINE_string(
    "label_column", None,
    "csv: name of the label column, or its position (0, 1, …) in a file without a "
    "header. With labels, half the rows are held out for testing and training uses "
    "the normal rows of the other half. Without, training and scoring use every row.",
)
flags.DEFINE_list(
    "anomaly_values", None,
    "csv: comma-separated values of --label_column that mark anomalous rows, for "
    "example attack,1. Default: a 0/1 column where 1 is anomalous.",
)
flags.DEFINE_list(
    "categorical_columns", None,
    "csv: columns to one-hot encode even though their values are numbers. Columns "
    "with text values are always one-hot encoded.",
)
flags.DEFINE_float(
    "contamination", None,
    "csv: expected share of anomalies among the scored rows, in (0, 1); the top "
    "share of scores is flagged. Default: the test rows' share with labels, 0.1 without.",
)
flags.DEFINE_bool(
    "fillna", False,
    "csv: replace missing and infinite numeric values by the training medians "
    "instead of stopping with an error.",
)
flags.DEFINE_list(
    "drop_columns", None,
    "csv: comma-separated columns to leave out of training and scoring, such as row "
    "IDs, named as --label_column names its column. The exported model does not need them.",
)
flags.DEFINE_bool(
    "no_header", False,
    "csv: the file has no header line. Default: detected from the first lines; a "
    "file without a header names its columns 0, 1, …",
)
flags.DEFINE_bool(
    "resume", False,
    "Continue the latest run with the same settings from its last checkpoint, up to "
    "--nb_epochs. Without it every run starts fresh in a new folder.",
)
flags.DEFINE_string(
    "export_dir", None,
    "Also copy the exported SavedModel to this folder, which must not exist. The "
    "run folder always gets one under saved_model/.",
)
flags.DEFINE_integer(
    "intra_op_threads", 1,
    "TensorFlow intra-op threads. The small networks train fastest with 1; 0 lets "
    "TensorFlow choose.",
    lower_bound=0,
)
flags.DEFINE_list(
    "baselines", None,
    "baselines run: comma-separated baselines to run, from iforest, pca, ocsvm, knn and "
    "untrained_alad. Default: every baseline available for --dataset (mnist: all but "
    "untrained_alad). The command also reads --dataset, --rd, --threshold, "
    "--threshold_percentile, --label, --batch_size (rows per timed scoring chunk), "
    "--scale, --clean_train, --intra_op_threads (BLAS and OpenMP threads), --data_dir, "
    "--logdir, and for csv the table flags (--data_path, --label_column, …).",
)


def config_from_flags(model_name, rd):
    """Build a `RunConfig` from the parsed flags, with the seed `rd` (one item of --rd)."""
    from alad_tf.experiment import RunConfig

    return RunConfig(
        model=model_name,
        dataset=FLAGS.dataset,
        nb_epochs=FLAGS.nb_epochs,
        label=FLAGS.label,
        m=FLAGS.m,
        w=FLAGS.w,
        d=FLAGS.d,
        rd=rd,
        enable_sm=FLAGS.enable_sm,
        enable_dzz=FLAGS.enable_dzz,
        enable_early_stop=FLAGS.enable_early_stop,
        sn=FLAGS.sn,
        data_dir=FLAGS.data_dir,
        logdir=FLAGS.logdir,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        threshold=FLAGS.threshold,
        threshold_percentile=FLAGS.threshold_percentile,
        scale=FLAGS.scale,
        clean_train=FLAGS.clean_train,
        data_path=FLAGS.data_path,
        label_column=FLAGS.label_column,
        anomaly_values=FLAGS.anomaly_values,
        categorical_columns=FLAGS.categorical_columns,
        contamination=FLAGS.contamination,
        fillna=FLAGS.fillna,
        no_header=FLAGS.no_header,
        drop_columns=FLAGS.drop_columns,
        resume=FLAGS.resume,
        export_dir=FLAGS.export_dir,
        verbose=FLAGS.verbose,
    )


def _fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def _help_command():
    """Return the command that prints the help: `python main.py --help` or `alad-tf --help`."""
    program = Path(sys.argv[0]).name
    return f"python {program} --help" if program.endswith(".py") else f"{program} --help"


def _fail_usage(message):
    """Print a usage error and where to find the help, then exit with status 1.

    absl would print the whole help text before the error instead.
    """
    print(f"Error: {message}", file=sys.stderr)
    print(f"Run `{_help_command()}` for the flags.", file=sys.stderr)
    sys.exit(1)


# absl formats the error of an invalid flag value as "flag --NAME=VALUE: REASON".
_FLAG_VALUE_ERROR = re.compile(r"flag --(?P<name>\w+)=(?P<value>.*?): (?P<reason>.*)")


def _flag_error_message(error):
    """Return an absl flag error as one line, `Invalid --NAME 'VALUE': REASON.` for bad values."""
    message = " ".join(str(error).split())
    match = _FLAG_VALUE_ERROR.fullmatch(message)
    if match:
        name, reason = match["name"], match["reason"]
        if name in FLAGS and FLAGS[name].boolean:
            # absl's reason for a boolean flag is the repr of a tuple.
            reason = f"expected true or false, or --{name} and --no{name} without a value"
        elif reason.startswith("invalid literal for int()"):
            reason = "expected a whole number"
        elif reason.startswith("could not convert string to float"):
            reason = "expected a number"
        message = f"Invalid --{name} {match['value']!r}: {reason}"
    return message if message.endswith((".", "?")) else message + "."


def _parse_flags(argv):
    """Parse the flags of `argv` and return the positional arguments, or exit on an invalid flag."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        _fail_usage(_flag_error_message(error))


class _HelpFlag(app.HelpFlag):
    """`--help`, `-?` and `--helpshort`: print this program's flags and exit with status 0.

    absl's own help flags (absl-py 2.5) exit with status 1, which scripts take for a failure.
    """

    def parse(self, arg):
        if self._parse(arg):
            app.usage(shorthelp=True, writeto_stdout=True)
            print("\nTry --helpfull to get a list of all flags.")
            sys.exit(0)


class _HelpshortFlag(_HelpFlag):
    NAME = "helpshort"
    SHORT_NAME = None


class _HelpfullFlag(app.HelpfullFlag):
    """`--helpfull`: print every flag, absl's included, and exit with status 0."""

    def parse(self, arg):
        if self._parse(arg):
            app.usage(writeto_stdout=True)
            sys.exit(0)


def _define_help_flags():
    """Replace absl's help flags by ones that exit with status 0."""
    app.define_help_flags()
    for help_flag in (_HelpFlag(), _HelpshortFlag(), _HelpfullFlag()):
        help_flag.allow_override = True
        flags.DEFINE_flag(help_flag, module_name=app.__name__)


def _set_tensorflow_threads():
    """Apply --intra_op_threads, which TensorFlow accepts only before it runs its first op.

    TensorFlow is imported here, by the commands that use it, and not at
    start, because importing it takes seconds.
    """
    import tensorflow as tf

    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)


def _run(model_name):
    """`MODEL run`: train, score and export one detector, or one per seed of a --rd list."""
    from alad_tf.experiment import run_experiment
    from alad_tf.experiments import parse_seeds, run_seeds

    _set_tensorflow_threads()
    seeds = parse_seeds(FLAGS.rd)
    if FLAGS.learning_rates is not None:
        raise ValueError(
            "--learning_rates is read by the sweep mode only (for example: alad sweep). "
            "Use --learning_rate for a run."
        )
    config = config_from_flags(model_name, seeds[0])
    if len(seeds) == 1:
        _print_run(run_experiment(config))
        return

    result = run_seeds(config, seeds)
    for outcome in result.outcomes:
        where = outcome.error if outcome.failed else outcome.summary["run_dir"]
        print(f"Seed {outcome.seed}: {where}")
    print(result.markdown)
    print(f"Summary over seeds: {result.csv_path} and {result.markdown_path}")
    print(f"TensorBoard: {_tensorboard_command(config.logdir)}")
    if len(result.failures) == len(seeds):
        _fail(f"All {len(seeds)} runs failed, so the summary has no results.")
    if result.failures:
        _fail(f"{len(result.failures)} of {len(seeds)} runs failed. The summary covers the others.")


def _sweep(model_name):
    """`MODEL sweep`: run every --learning_rates value with every --rd seed and compare them."""
    from alad_tf.experiments import parse_learning_rates, parse_seeds, run_sweep

    _set_tensorflow_threads()
    seeds = parse_seeds(FLAGS.rd)
    learning_rates = parse_learning_rates(FLAGS.learning_rates)
    if FLAGS.learning_rate is not None:
        raise ValueError(
            "The sweep mode takes its learning rates from --learning_rates. Drop --learning_rate."
        )
    sweep = run_sweep(config_from_flags(model_name, seeds[0]), learning_rates, seeds)
    print(sweep.markdown)
    if sweep.best_learning_rate is None:
        print("Best learning rate: none, every run failed.")
    else:
        print(f"Best learning rate: {sweep.best_learning_rate:g}")
    print(f"Sweep table: {sweep.csv_path}, {sweep.markdown_path} and {sweep.plot_path}")
    # As for a seed list, so that scripts checking the exit status see failed runs.
    total = len(sweep.outcomes)
    if len(sweep.failures) == total:
        _fail(f"All {total} runs failed, so the sweep has no results.")
    if sweep.failures:
        _fail(f"{len(sweep.failures)} of {total} runs failed. The table covers the others.")


def _report():
    """`report`: write a Markdown report of every run under --logdir."""
    from alad_tf.report import write_report
    from alad_tf.tables import count_of

    report = write_report(FLAGS.logdir, FLAGS.output)
    print(report.tables_text)
    replaced = " (replaced the earlier file)" if report.replaced else ""
    print(
        f"Report of {count_of(report.run_count, 'run')} in "
        f"{count_of(report.configuration_count, 'configuration')} written to {report.path}{replaced}"
    )


def _tensorboard_command(logdir):
    """Return the shell command that starts TensorBoard on `logdir`, quoted for copying."""
    return f"tensorboard --logdir {shlex.quote(str(logdir))}"


def _print_run(summary):
    print(f"Results: {summary['run_dir']}/results.csv")
    # At least 3, the width of the README's example lines.
    width = max(3, *(len(method) for method in summary["metrics"]))
    for method, values in summary["metrics"].items():
        if "f1" not in values:
            print(
                f"{method:>{width}}: threshold {values['threshold']:.4f}  "
                f"flagged {values['flagged']} rows"
            )
            continue
        print(
            f"{method:>{width}}: precision {values['precision']:.4f}  recall {values['recall']:.4f}  "
            f"F1 {values['f1']:.4f}  AUROC {values['auroc']:.4f}  AUPRC {values['auprc']:.4f}"
        )
    if (Path(summary["run_dir"]) / "scores.csv").is_file():
        print(f"Row scores: {summary['run_dir']}/scores.csv")
    print(f"SavedModel: {summary['saved_model']}")
    if summary["export_dir"]:
        print(f"SavedModel copy: {summary['export_dir']}")
    print(f"TensorBoard: {_tensorboard_command(summary['flags']['logdir'])}")


# MODE -> handler taking the model name, for the commands `MODEL MODE`.
MODEL_MODES = {"run": _run, "sweep": _sweep}

# COMMAND -> handler, for the one-word commands `python main.py COMMAND`.
COMMANDS = {"report": _report}


def _run_baselines():
    """`baselines run`: fit, score and evaluate the baselines of `--baselines`."""
    from alad_tf.baselines import run_baselines
    from alad_tf.data import DATASET_OPTIONS
    from alad_tf.experiments import parse_seeds

    _set_tensorflow_threads()
    # load_dataset rejects a table option that is set for another dataset.
    table_options = {name: FLAGS[name].value for name in DATASET_OPTIONS["csv"]}
    summaries = []
    for seed in parse_seeds(FLAGS.rd):
        summaries += run_baselines(
            FLAGS.dataset,
            names=FLAGS.baselines,
            data_dir=FLAGS.data_dir,
            rd=seed,
            threshold=FLAGS.threshold,
            threshold_percentile=FLAGS.threshold_percentile,
            logdir=FLAGS.logdir,
            label=FLAGS.label,
            batch_size=FLAGS.batch_size,
            scale=FLAGS.scale,
            clean_train=FLAGS.clean_train,
            threads=FLAGS.intra_op_threads,
            **table_options,
        )
    _print_baselines(summaries)
    for summary in summaries:
        print(f"Run folder: {summary['run_dir']}")
        if (Path(summary["run_dir"]) / "scores.csv").is_file():
            print(f"Row scores: {summary['run_dir']}/scores.csv")
    print(f"Results: {FLAGS.logdir}/results.csv")


def _print_baselines(summaries):
    """Print a row per baseline: its metrics, or its threshold and flagged rows without labels."""
    labelled = "f1" in summaries[0]["metrics"][summaries[0]["primary_score"]]
    if labelled:
        columns = f"{'precision':>9} {'recall':>7} {'F1':>7} {'AUROC':>7}"
    else:
        columns = f"{'threshold':>12} {'flagged':>8}"
    print(f"{'score':<18} {'seed':>5} {columns} {'s/chunk':>9}")
    for summary in summaries:
        values = summary["metrics"][summary["primary_score"]]
        if labelled:
            cells = (
                f"{values['precision']:>9.4f} {values['recall']:>7.4f} {values['f1']:>7.4f} "
                f"{values['auroc']:>7.4f}"
            )
        else:
            cells = f"{values['threshold']:>12.6g} {values['flagged']:>8}"
        print(
            f"{summary['primary_score']:<18} {summary['flags']['rd']:>5} {cells} "
            f"{summary['mean_inference_time_s']:>9.6f}"
        )


# COMMAND -> {MODE: handler}, for `python main.py COMMAND MODE` where COMMAND
# is not a model.
COMMAND_MODES = {"baselines": {"run": _run_baselines}}


# Flags that a command never reads, by its first word. Passing one is an
# error, because the user expects it to change something.
UNUSED_FLAGS = {
    "baselines": {
        "nb_epochs", "m", "w", "d", "enable_sm", "enable_dzz", "enable_early_stop", "sn",
        "learning_rate", "learning_rates", "resume", "export_dir", "output",
    },
    "model": {"baselines", "output"},
    # Flags of the other model: BiGAN's score weight and ALAD's D_zz.
    "alad": {"w"},
    "bigan": {"enable_dzz"},
}
# The report reads only these flags.
REPORT_FLAGS = {"logdir", "output", "verbose"}


def _reject_unused_flags(command, unused):
    """Raise `app.UsageError` when a flag in `unused` was given on the command line."""
    passed = [f"--{name}" for name in sorted(unused) if FLAGS[name].present]
    if len(passed) == 1:
        raise app.UsageError(f"{passed[0]} has no effect on {command}. Drop it.")
    if passed:
        listed = f"{', '.join(passed[:-1])} and {passed[-1]}"
        raise app.UsageError(f"{listed} have no effect on {command}. Drop them.")


def _command(positional):
    """Return the handler of the positional arguments, or raise `app.UsageError`."""
    if positional and positional[0] in COMMANDS:
        if len(positional) > 1:
            raise app.UsageError(
                f"The command {positional[0]} takes no further arguments, got: "
                f"{' '.join(positional)}. Pass its settings as flags, such as --logdir."
            )
        module_flags = {flag.name for flag in FLAGS.get_flags_for_module(__name__)}
        _reject_unused_flags(positional[0], module_flags - REPORT_FLAGS)
        return COMMANDS[positional[0]]
    if positional and positional[0] in COMMAND_MODES:
        handler = _other_command(positional)
        _reject_unused_flags(" ".join(positional), UNUSED_FLAGS[positional[0]])
        return handler
    if len(positional) != 2:
        commands = [f"{model} {mode}" for mode in MODEL_MODES for model in MODEL_NAMES]
        commands += [f"{name} {mode}" for name, modes in COMMAND_MODES.items() for mode in modes]
        raise app.UsageError(
            f"Expected a command: {', '.join(commands)} or {', '.join(COMMANDS)}. "
            + (f"Got: {' '.join(positional)}." if positional else "Got no arguments.")
        )
    model_name, mode = positional
    if model_name not in MODEL_NAMES:
        raise app.UsageError(
            f"Unknown model {model_name!r}. Expected one of: {', '.join(MODEL_NAMES)}."
        )
    if mode not in MODEL_MODES:
        raise app.UsageError(
            f"Unknown mode {mode!r}. Expected one of: {', '.join(MODEL_MODES)}."
        )
    _reject_unused_flags(f"{model_name} {mode}", UNUSED_FLAGS["model"] | UNUSED_FLAGS[model_name])
    return lambda: MODEL_MODES[mode](model_name)


def _other_command(positional):
    """Return the handler of a `COMMAND_MODES` command, or raise `app.UsageError`."""
    command, *rest = positional
    modes = COMMAND_MODES[command]
    if len(rest) != 1 or rest[0] not in modes:
        raise app.UsageError(
            f"Expected `{command} MODE` with MODE one of: {', '.join(modes)}, got: "
            f"{' '.join(positional)}."
        )
    return modes[rest[0]]


def main(argv):
    try:
        handler = _command(argv[1:])
    except app.UsageError as error:
        _fail_usage(str(error))

    from alad_tf.data import DatasetNotFoundError

    try:
        handler()
    except (DatasetNotFoundError, ValueError, FileExistsError) as error:
        _fail(str(error))
    except KeyboardInterrupt:
        from alad_tf.training import CHECKPOINT_INTERVAL

        print(
            "Interrupted. If a checkpoint was saved (at most every "
            f"{CHECKPOINT_INTERVAL} s and after the last epoch; the log line above says), "
            "the same command plus --resume continues the run from it.",
            file=sys.stderr,
        )
        sys.exit(130)


USAGE = """\
Usage: {program} COMMAND [flags]

Commands:
  alad run, bigan run       train, score, evaluate and export one detector per
                            --rd seed (a comma-separated list runs several)
  alad sweep, bigan sweep   run every --learning_rates value with every seed
                            and compare them
  baselines run             the scikit-learn and untrained-ALAD baselines
  report                    write a Markdown report of every run under --logdir

Example: {program} alad run --dataset kdd --label 4
"""


def run():
    """Entry point of `main.py` and the `alad-tf` console script."""
    # absl's --help starts with the main module's docstring: name the
    # commands there, for `python main.py` and the `alad-tf` script alike.
    program = Path(sys.argv[0]).name
    program = f"python {program}" if program.endswith(".py") else program
    sys.modules["__main__"].__doc__ = USAGE.format(program=program)
    # absl's --help lists the key flags of the program file (sys.argv[0]),
    # which is main.py or the alad-tf script, so make this module's flags key
    # flags of that file.
    for flag in FLAGS.get_flags_for_module(__name__):
        FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    _define_help_flags()
    app.run(main, flags_parser=_parse_flags)
