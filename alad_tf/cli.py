"""Command line: `python main.py MODEL MODE [flags]`, for example `python main.py alad run`.

`python main.py baselines run [flags]` runs the scikit-learn and untrained-ALAD
baselines of `alad_tf.baselines` under the same protocol.

Flags mirror the original ALAD and EGBAD command lines. Run with --help for
every flag, its unit and its default.
"""

import sys

from absl import app, flags, logging

from alad_tf import data, models
from alad_tf.evaluation import THRESHOLD_MODES

FLAGS = flags.FLAGS

flags.DEFINE_enum("dataset", "kdd", sorted(data.LOADERS), "Dataset to train and test on.")
flags.DEFINE_integer(
    "nb_epochs", None,
    "Number of training epochs (full passes over the training rows). Default: the "
    "model's default for the dataset (kdd: 10). 0 scores the untrained or "
    "resumed model.",
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
flags.DEFINE_float("w", 0.1, "BiGAN: weight w of the discriminator term in (1 - w) * reconstruction + w * discriminator term (0 to 1). Unused by ALAD.")
flags.DEFINE_integer("d", 1, "Norm degree of the feature-matching (fm) score.", lower_bound=1)
flags.DEFINE_integer(
    "rd", 42, "Random seed of Python, NumPy, TensorFlow, data shuffling and latent sampling.",
    lower_bound=0, upper_bound=2**32 - 2,
)
flags.DEFINE_bool(
    "enable_sm", False,
    "Also write per-batch loss summaries to TensorBoard (one training step per "
    "tf.function call, so slower).",
)
flags.DEFINE_bool(
    "enable_dzz", False, "ALAD: add the D_zz latent cycle term to the generator and encoder losses."
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
    "scale", False,
    "MinMax-scale tabular features, fitted on the training rows. The reference "
    "ALAD and EGBAD code never scales. The exported model takes unscaled rows.",
)
flags.DEFINE_bool(
    "clean_train", False,
    "arrhythmia: drop the anomalies from the training half. The reference code "
    "keeps them (34 of 226 rows).",
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
    "--scale, --clean_train, --intra_op_threads (BLAS and OpenMP threads), --data_dir "
    "and --logdir.",
)


def config_from_flags(model_name):
    """Build a `RunConfig` from the parsed flags."""
    from alad_tf.experiment import RunConfig

    return RunConfig(
        model=model_name,
        dataset=FLAGS.dataset,
        nb_epochs=FLAGS.nb_epochs,
        label=FLAGS.label,
        m=FLAGS.m,
        w=FLAGS.w,
        d=FLAGS.d,
        rd=FLAGS.rd,
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
        resume=FLAGS.resume,
        export_dir=FLAGS.export_dir,
    )


def _fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def _run(model_name):
    """`MODEL run`: train, score and export one detector."""
    from alad_tf.experiment import run_experiment

    summary = run_experiment(config_from_flags(model_name))
    print(f"Results: {summary['run_dir']}/results.csv")
    for method, values in summary["metrics"].items():
        print(
            f"{method:>3}: precision {values['precision']:.4f}  recall {values['recall']:.4f}  "
            f"F1 {values['f1']:.4f}  AUROC {values['auroc']:.4f}"
        )
    print(f"SavedModel: {summary['saved_model']}")
    if summary["export_dir"]:
        print(f"SavedModel copy: {summary['export_dir']}")
    print(f"TensorBoard: tensorboard --logdir {summary['flags']['logdir']}")


# MODE -> handler taking the model name, for the commands `MODEL MODE`.
MODEL_MODES = {"run": _run}


def _run_baselines():
    """`baselines run`: fit, score and evaluate the baselines of `--baselines`."""
    from alad_tf.baselines import run_baselines

    summaries = run_baselines(
        FLAGS.dataset,
        names=FLAGS.baselines,
        data_dir=FLAGS.data_dir,
        rd=FLAGS.rd,
        threshold=FLAGS.threshold,
        threshold_percentile=FLAGS.threshold_percentile,
        logdir=FLAGS.logdir,
        label=FLAGS.label,
        batch_size=FLAGS.batch_size,
        scale=FLAGS.scale,
        clean_train=FLAGS.clean_train,
        threads=FLAGS.intra_op_threads,
    )
    print(f"{'score':<18} {'precision':>9} {'recall':>7} {'F1':>7} {'AUROC':>7} {'s/chunk':>9}")
    for summary in summaries:
        values = summary["metrics"][summary["primary_score"]]
        print(
            f"{summary['primary_score']:<18} {values['precision']:>9.4f} "
            f"{values['recall']:>7.4f} {values['f1']:>7.4f} {values['auroc']:>7.4f} "
            f"{summary['mean_inference_time_s']:>9.6f}"
        )
    for summary in summaries:
        print(f"Run folder: {summary['run_dir']}")
    print(f"Results: {FLAGS.logdir}/results.csv")


# COMMAND -> {MODE: handler}, for commands whose first word is not a model.
COMMANDS = {"baselines": {"run": _run_baselines}}


def _command(positional):
    """Return the handler of the positional arguments, or raise `app.UsageError`."""
    if positional and positional[0] in COMMANDS:
        return _other_command(positional)
    if len(positional) != 2:
        raise app.UsageError(
            f"Expected two arguments, MODEL and MODE (for example: alad run), got "
            f"{len(positional)}: {' '.join(positional) or 'none'}."
        )
    model_name, mode = positional
    if model_name not in models.MODELS:
        raise app.UsageError(
            f"Unknown model {model_name!r}. Expected one of: {', '.join(sorted(models.MODELS))}."
        )
    if mode not in MODEL_MODES:
        raise app.UsageError(
            f"Unknown mode {mode!r}. Expected one of: {', '.join(MODEL_MODES)}."
        )
    return lambda: MODEL_MODES[mode](model_name)


def _other_command(positional):
    """Return the handler of a `COMMANDS` command, or raise `app.UsageError`."""
    command, *rest = positional
    modes = COMMANDS[command]
    if len(rest) != 1 or rest[0] not in modes:
        raise app.UsageError(
            f"Expected `{command} MODE` with MODE one of: {', '.join(modes)}, got: "
            f"{' '.join(positional)}."
        )
    return modes[rest[0]]


def main(argv):
    handler = _command(argv[1:])

    import tensorflow as tf

    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)

    try:
        handler()
    except (data.DatasetNotFoundError, ValueError, FileExistsError) as error:
        _fail(str(error))


def run():
    """Entry point of `main.py` and the `alad-tf` console script."""
    # absl's --help lists the key flags of the program file (sys.argv[0]),
    # which is main.py or the alad-tf script, so make this module's flags key
    # flags of that file.
    for flag in FLAGS.get_flags_for_module(__name__):
        FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    app.run(main)
