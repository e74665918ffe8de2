"""Build a validated `Config` from layered YAML files and `--set key=value` overrides."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import re
import typing
from typing import Any, Iterable, Mapping

import yaml

from configs.schema import MOVED_KEYS, RUN_DIR_DEFAULT, RUN_DIR_TEMPLATE, RUN_PATHS, Config, ConfigError, to_dict

CONFIG_DIR = os.path.dirname(os.path.abspath(__file__))


def resolve_config_path(name: str) -> str:
    """A path as given, or the name of a YAML file shipped in `configs/` (`aeslc` -> configs/aeslc.yaml)."""
    if os.path.exists(name):
        return name
    for candidate in (os.path.join(CONFIG_DIR, name), os.path.join(CONFIG_DIR, name + ".yaml")):
        if os.path.exists(candidate):
            return candidate
    shipped = sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".yaml"))
    raise ConfigError(f"config file {name!r} not found; give a path or one of the shipped configs: {shipped}")


def _merge(base: dict, layer: Mapping, where: str, prefix: str = "") -> dict:
    out = dict(base)
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value, where, f"{prefix}{key}.")
        elif isinstance(value, Mapping) and out.get(key) is not None:
            # keys inside a section an earlier layer set to a value (`--set summarize=5` then -o DIR): the
            # value is wrong whatever comes after it, not replaced
            raise ConfigError(f"{prefix}{key}: expected a section (mapping), got {out[key]!r}")
        else:
            out[key] = value
    return out


def parse_override(text: str) -> dict:
    """`a.b=value` -> {"a": {"b": value}}, the value parsed as YAML (so 16000 is an int, [1,2] a list)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: write it as section.key=value, e.g. tokenizer.vocab_size=16000")
    dotted, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else ""
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {text!r}: the value is not valid YAML ({_yaml_problem(e)}); quote it, "
                          f"e.g. --set '{dotted}=\"...\"'") from None
    return nested(dotted, value)


def nested(dotted: str, value: Any) -> dict:
    """`("a.b", value)` -> {"a": {"b": value}}: a value taken literally (a CLI option's)."""
    out: dict = {}
    node = out
    parts = dotted.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _yaml_problem(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{getattr(e, 'problem', None) or type(e).__name__}{where}"


_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
        return float(value)  # PyYAML (YAML 1.1) reads `2e-3` and `1e5` as strings: they need a dot there
    if hint in (int, float, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        (item_hint, *_) = typing.get_args(hint)
        return tuple(_coerce(v, item_hint, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    return value


def _build(cls: type, values: Mapping, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if f"{prefix}{key}" in MOVED_KEYS:
            raise ConfigError(f"{prefix}{key}: moved to {MOVED_KEYS[prefix + key]} (one runner section that "
                              f"preprocess and summarize both read); rename it there")
        if key not in fields:
            near = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {prefix}{near[0]}?)" if near else ""
            raise ConfigError(f"{prefix}{key}: unknown key{hint}; known keys: {', '.join(fields)}")
        hint_type = hints[key]
        if dataclasses.is_dataclass(hint_type):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{prefix}{key}: expected a section (mapping), got {value!r}")
            kwargs[key] = _build(hint_type, value, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(value, hint_type, f"{prefix}{key}")
    return cls(**kwargs)


def load_config(files: Iterable[str] = (), overrides: Iterable[str] = (),
                values: Mapping[str, Any] | None = None) -> Config:
    """Layer YAML `files` in order, then `overrides` (`section.key=value`, the value parsed as YAML), then
    `values` ({"section.key": value}, taken literally: what a CLI option gave), and validate."""
    merged: dict = {}
    for name in files:
        path = resolve_config_path(name)
        if os.path.isdir(path):
            raise ConfigError(f"config {path} is a directory; give a YAML file")
        try:
            with open(path, encoding="utf-8") as f:
                layer = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({_yaml_problem(e)})") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: cannot be read ({e})") from None
        if not isinstance(layer, Mapping):
            raise ConfigError(f"{path}: a config file must be a mapping of sections")
        merged = _merge(merged, layer, path)
    for text in overrides:
        merged = _merge(merged, parse_override(text), "--set")
    for dotted, value in (values or {}).items():
        merged = _merge(merged, nested(dotted, value), "option")
    return _build(Config, _with_run_dir(merged), "")


def _with_run_dir(merged: dict) -> dict:
    """The run's paths that no layer gave, as folders of run_dir (RUN_PATHS); "{run_dir}" in a given one
    replaced by it."""
    run_dir = merged.get("run_dir", RUN_DIR_DEFAULT)
    if not isinstance(run_dir, str) or not run_dir.strip():
        raise ConfigError(f"run_dir: expected a folder, got {run_dir!r}")
    out = dict(merged)
    for (section, key), folder in RUN_PATHS.items():
        values = out.get(section, {})
        if not isinstance(values, Mapping):
            continue  # _build says that the section must be a mapping
        values = dict(values)
        given = values.get(key)
        if given is None:
            values[key] = run_dir.rstrip("/") + "/" + folder
        elif isinstance(given, str):
            values[key] = given.replace(RUN_DIR_TEMPLATE, run_dir.rstrip("/"))
        out[section] = values
    return out


def config_yaml(config: Config) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)


def fingerprint(payload: Any, *, digits: int = 24) -> str:
    """sumflow's one fingerprint: the sha256 of `payload` as canonical JSON (keys sorted; a config or a section
    as `to_dict` writes it, at any depth; other values that JSON lacks as their str). Completion markers,
    training runs and manifests all use it."""

    def canonical(value):
        if dataclasses.is_dataclass(value):
            return to_dict(value)
        return sorted(value) if isinstance(value, (set, frozenset)) else str(value)

    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=canonical).encode()).hexdigest()[:digits]


def config_fingerprint(section: Any) -> str:
    """A stable hash of a config (or one section of it), for manifests."""
    return fingerprint(section, digits=16)
