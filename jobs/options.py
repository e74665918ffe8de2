"""Click options every job shares: layered config files and --set overrides."""

from __future__ import annotations

import click


def config_options(func):
    func = click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
                        help="Override one config value (repeatable), e.g. --set tokenizer.vocab_size=16000.")(func)
    func = click.option("-c", "--config", "configs", multiple=True, metavar="FILE",
                        help="YAML config, layered in order (repeatable). A shipped name works too: -c aeslc.")(func)
    return func


def load(configs, overrides):
    """Load the config or exit with status 2 and a message that says what to fix."""
    from configs.load import load_config
    from configs.schema import ConfigError

    try:
        return load_config(configs, overrides)
    except ConfigError as e:
        raise click.UsageError(f"config: {e}") from None
