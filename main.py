"""Command-line entry point: `python main.py alad run --dataset kdd`."""

from alad_tf.cli import run

if __name__ == "__main__":
    run()
