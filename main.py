"""Command-line entry point: `python main.py alad run --dataset kdd`."""

from absl import flags

from alad_tf import cli

# Lists the package's flags under --help, not only under --helpfull.
flags.adopt_module_key_flags(cli)

if __name__ == "__main__":
    cli.run()
