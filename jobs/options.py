"""What every job's command line shares: layered config files, --set overrides, options taken literally,
`--allow-nonempty`, and the `--` that separates sumflow's options from the Beam runner's."""

from __future__ import annotations

from typing import Any, Mapping

import click


def config_options(func):
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
