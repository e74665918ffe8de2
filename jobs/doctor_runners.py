"""`sumflow doctor`'s Beam runner lines: what each runner needs on this machine and whether it is here.

A runner's module importing says little: DataflowRunner imports without the GCP clients it submits with,
and Flink or Spark fetch a job-server jar (and need Java) at run time. Each line says what is present and,
where something is missing, how to get it. Nothing is probed over the network but a job server endpoint the
operator gives (one TCP connection).
"""

from __future__ import annotations

import os
import shutil
import socket
from importlib.metadata import PackageNotFoundError, version
from typing import Mapping

GCP_CLIENTS = ("google-cloud-storage", "google-apitools", "google-auth", "google-cloud-dataflow-client")
PORTABLE_HINT = "`--job_endpoint embed --environment_type LOOPBACK` runs the job in this process"


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def dask_line() -> str:
    distributed = _version("distributed")
    if distributed is None:
        return "DaskRunner (--runner dask): needs the dask extra: pip install 'sumflow[dask]'"
    return (f"DaskRunner (--runner dask): ready (distributed {distributed}); the cluster is "
            f"--dask_client_address, or a LocalCluster started on this machine")


def credentials(env: Mapping[str, str]) -> str:
    """Where Google's client libraries would find credentials (files only: the metadata server of a Google Cloud
    VM is not probed)."""
    given = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if given:
        return f"GOOGLE_APPLICATION_CREDENTIALS={given}" + ("" if os.path.isfile(given) else " (NO SUCH FILE)")
    config = env.get("CLOUDSDK_CONFIG") or os.path.join(os.path.expanduser("~"), ".config", "gcloud")
    adc = os.path.join(config, "application_default_credentials.json")
    if os.path.isfile(adc):
        return f"application default credentials ({adc})"
    return ("none found: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS "
            "(on a Google Cloud VM the metadata server provides them; not probed)")


def dataflow_line(env: Mapping[str, str]) -> str:
    missing = [name for name in GCP_CLIENTS if _version(name) is None]
    if missing:
        return f"DataflowRunner: GCP clients missing ({', '.join(missing)}): pip install 'sumflow[gcp]'"
    return f"DataflowRunner: GCP clients installed; credentials: {credentials(env)}"


def reachable(endpoint: str, timeout: float = 2.0) -> str | None:
    """None if a TCP connection to HOST:PORT opens, else why not."""
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        return "not HOST:PORT"
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    return None


def job_server_jars() -> dict[str, str]:
    """{runner: the job-server jar Beam would start for it (a Maven URL)}, for the Flink version Beam defaults to."""
    from apache_beam.options.pipeline_options import FlinkRunnerOptions
    from apache_beam.utils.subprocess_server import JavaJarServer

    flink = FlinkRunnerOptions([]).flink_version
    return {"FlinkRunner": JavaJarServer.path_to_beam_jar(f":runners:flink:{flink}:job-server:shadowJar"),
            "SparkRunner": JavaJarServer.path_to_beam_jar(":runners:spark:3:job-server:shadowJar")}


def job_server_lines(job_endpoint: str | None, *, jars: Mapping[str, str], jar_cache: str,
                     java: str | None) -> list[str]:
    if job_endpoint:
        why = reachable(job_endpoint)
        state = "reachable" if why is None else f"NOT reachable ({why})"
        return [f"FlinkRunner, SparkRunner, PortableRunner: job server {job_endpoint} {state} "
                f"(they submit to it with --job_endpoint {job_endpoint})"]
    lines = []
    for name, url in jars.items():
        jar = url.rsplit("/", 1)[-1]
        cached = os.path.join(jar_cache, jar)
        where = (f"cached at {cached}" if os.path.isfile(cached)
                 else "not cached: Beam downloads it at run time (needs network)")
        runtime = f"java {java}" if java else "java NOT FOUND (the job server runs on Java)"
        lines.append(f"{name}: no job server given (sumflow doctor --job-endpoint HOST:PORT checks one); "
                     f"Beam would start {jar}, {where}; {runtime}")
    lines.append(f"PortableRunner: needs --job_endpoint HOST:PORT; {PORTABLE_HINT}")
    return lines


def report(job_endpoint: str | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    from apache_beam.utils.subprocess_server import JavaJarServer

    env = os.environ if env is None else env
    return ["DirectRunner (local FnApiRunner, multi-process): ready", dask_line(), dataflow_line(env),
            *job_server_lines(job_endpoint, jars=job_server_jars(), jar_cache=JavaJarServer.JAR_CACHE,
                              java=shutil.which("java"))]
