"""`sumflow doctor`: the versions in use, what each Beam runner needs and finds here (jobs/doctor_runners.py) and
whether a GPU is visible."""

from __future__ import annotations

import click

OUR_PACKAGES = ("workspace", "configs", "contract", "pipeline", "model", "evaluation", "jobs")  # setup.py's
PACKAGES = ("sumflow", "tensorflow", "tensorflow-text", "keras", "apache-beam", "tensorflow-datasets",
            "rouge-score", "click", "sentencepiece", "datasketch", "google-crc32c", "numpy", "protobuf")


def foreign_packages() -> dict[str, str]:
    """{name: where it is imported from} for each of sumflow's top-level package names that resolves to
    something other than the folder beside this `jobs` package (another installed package of that name)."""
    import importlib.util
    import os

    home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = {}
    for name in OUR_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            out[name] = "not installed (reinstall sumflow)"
            continue
        origin = os.path.abspath(spec.origin) if spec.origin else None
        if origin is None or os.path.dirname(os.path.dirname(origin)) != home:
            out[name] = origin or "a namespace package (no __init__.py)"
    return out


@click.command("doctor")
@click.option("--job-endpoint", default=None, metavar="HOST:PORT",
              help="A Beam job server (Flink, Spark, portable) to check for reachability.")
def command(job_endpoint):
    """Print versions, what each Beam runner needs and has here, and visible accelerators."""
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    click.echo(f"python {platform.python_version()} ({platform.machine()}, {os.cpu_count()} cores)")
    for name in PACKAGES:
        try:
            click.echo(f"  {name:20s} {version(name)}")
        except PackageNotFoundError:
            click.echo(f"  {name:20s} NOT INSTALLED")
    foreign = foreign_packages()
    if foreign:
        for name, origin in foreign.items():
            click.echo(f"  PACKAGE NAME CLASH: `{name}` is imported from {origin}, not sumflow's; uninstall that "
                       f"package or install sumflow in its own virtual environment")
    else:
        click.echo(f"  packages {', '.join(OUR_PACKAGES)}: sumflow's own")
    click.echo("beam runners:")
    from jobs.doctor_runners import report

    for line in report(job_endpoint):
        click.echo(f"  {line}")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    click.echo(f"gpu: {', '.join(g.name for g in gpus) if gpus else 'none visible (training runs on CPU)'}")
    try:
        import tensorflow_text  # noqa: F401  (registers the SentencePiece ops exported models need)

        click.echo("tensorflow-text ops: loaded")
    except Exception as e:
        click.echo(f"tensorflow-text ops: FAILED ({e})")
