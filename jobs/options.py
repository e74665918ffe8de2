"""What every job's command line shares: layered config files, --set overrides, options taken literally,
`--allow-nonempty`, and the `--` that separates sumflow's options from the Beam runner's."""

from __future__ import annotations

import os
from typing import Any, Mapping

import click


RUN_DIR_META = "sumflow.run_dir"  # where --run-dir leaves its value for `load`


def _remember_run_dir(ctx: click.Context, param, value):
    if value is not None:
        ctx.meta[RUN_DIR_META] = value
    return value


def config_options(func):
    func = click.option("--run-dir", metavar="DIR", expose_value=False, callback=_remember_run_dir,
                        help="The run's folder: data, model, export, summaries and evaluation default to "
                             "folders in it (run_dir; each still overridable).")(func)
    func = click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
                        help="Override one config value (repeatable), parsed as YAML, "
                             "e.g. --set tokenizer.vocab_size=16000.")(func)
    func = click.option("-c", "--config", "configs", multiple=True, metavar="FILE",
                        help="YAML config, layered in order (repeatable). A shipped name works too: -c aeslc.")(func)
    return func


def allow_nonempty_option(func):
    return click.option("--allow-nonempty", is_flag=True,
                        help="Write into a directory that already holds other files (sumflow still touches "
                             "only the files it writes).")(func)


def load(configs, overrides, options: Mapping[str, Any] | None = None):
    """The config from `-c` files, `--set` overrides and the command's own options.

    `options` maps config keys to what the user typed for them ({"preprocess.output_dir": value}); values that
    are None (option not given) are left out. They are applied last and literally: a path stays the string
    it was typed as (`#`, spaces, `2024`, `yes`), unlike `--set`, which parses YAML.
    Raises ConfigError (exit 2, one line) with a message that says what to fix.
    """
    from configs.load import load_config

    given = {key: list(value) if isinstance(value, tuple) else value
             for key, value in (options or {}).items() if value not in (None, ())}
    context = click.get_current_context(silent=True)
    if context is not None and RUN_DIR_META in context.meta:
        given = {"run_dir": context.meta[RUN_DIR_META], **given}
    return load_config(configs, overrides, given)


class BeamCommand(click.Command):
    """A job whose arguments after `--` go to Beam unchanged; before it, every option must be sumflow's.

    A mistyped option (`--ouput-dir`) is then a usage error with a suggestion, never handed to Beam (which
    would ignore it and run with the default). The callback gets the Beam arguments as `beam_args`.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        beam: list[str] = []
        if "--" in args:
            at = args.index("--")
            args, beam = args[:at], args[at + 1:]
        rest = super().parse_args(ctx, args)
        ctx.params["beam_args"] = tuple(beam)
        return rest


def load_trained(configs, overrides, options):
    """(the config, which one it is in words) of a job that reads a trained model (export, tune-decoding): the
    training run's recorded config (MODEL_DIR/config.yaml) with this command's -c files and --set over it."""
    from configs.schema import ConfigError
    from contract import model_dir as layout

    given = load(configs, overrides, options)  # where the model is
    recorded = os.path.join(given.train.model_dir, layout.CONFIG)
    mine = [f"-c {name}" for name in configs] + ([f"{len(overrides)} --set"] if overrides else [])
    if not os.path.isfile(recorded):  # no finished training there: export says so (exit 3)
        return given, " + ".join(mine) if mine else "the schema's defaults"
    try:
        # the model is the one found here, wherever the recorded run had it (a copied model directory)
        config = load((recorded, *configs), overrides, {**options, "train.model_dir": given.train.model_dir})
    except ConfigError as e:
        raise ConfigError(f"{recorded} (the config the model was trained with): {e}") from None
    return config, " + ".join([f"{recorded} (the training run's)"] + mine)


def explicit_keys(overrides, section: str) -> list[str]:
    """The keys of `section` that --set overrides name (`--set decode.beam_size=2` -> ["beam_size"])."""
    keys = []
    for override in overrides:
        name = override.split("=", 1)[0].strip()
        if name.startswith(section + "."):
            keys.append(name[len(section) + 1:].split(".")[0])
    return keys
