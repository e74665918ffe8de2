"""jobs/doctor_runners.py: each runner's line says what is present on this machine, and how to get what is not."""

import socket

import apache_beam
import pytest

from jobs import doctor_runners

JARS = {"FlinkRunner": "https://repo/beam-runners-flink-2.2-job-server-2.77.0.jar",
        "SparkRunner": "https://repo/beam-runners-spark-3-job-server-2.77.0.jar"}


@pytest.fixture
def installed(monkeypatch):
    """The distributions `_version` finds: edit the dict."""
    versions = {"distributed": "2026.8.0", **{name: "1.0" for name in doctor_runners.GCP_CLIENTS}}
    monkeypatch.setattr(doctor_runners, "_version", versions.get)
    return versions


def test_dask_needs_the_extra(installed):
    assert doctor_runners.dask_line() == ("DaskRunner (--runner dask): ready (distributed 2026.8.0); the cluster "
                                          "is --dask_client_address, or a LocalCluster started on this machine")
    del installed["distributed"]
    assert doctor_runners.dask_line() == ("DaskRunner (--runner dask): needs the dask extra: "
                                          "pip install 'sumflow[dask]'")


def test_dataflow_names_missing_gcp_clients(installed):
    del installed["google-cloud-storage"], installed["google-apitools"]
    assert doctor_runners.dataflow_line({}) == ("DataflowRunner: GCP clients missing (google-cloud-storage, "
                                                "google-apitools): pip install 'sumflow[gcp]'")


def test_dataflow_says_where_the_credentials_are(installed, tmp_path):
    key = tmp_path / "key.json"
    key.write_text("{}")
    line = doctor_runners.dataflow_line({"GOOGLE_APPLICATION_CREDENTIALS": str(key)})
    assert line == f"DataflowRunner: GCP clients installed; credentials: GOOGLE_APPLICATION_CREDENTIALS={key}"
    gone = tmp_path / "gone.json"
    assert doctor_runners.credentials({"GOOGLE_APPLICATION_CREDENTIALS": str(gone)}) == (
        f"GOOGLE_APPLICATION_CREDENTIALS={gone} (NO SUCH FILE)")
    (tmp_path / "gcloud").mkdir()
    assert doctor_runners.credentials({"CLOUDSDK_CONFIG": str(tmp_path / "gcloud")}).startswith("none found: run "
                                                                                                "`gcloud auth")
    (tmp_path / "gcloud" / "application_default_credentials.json").write_text("{}")
    assert doctor_runners.credentials({"CLOUDSDK_CONFIG": str(tmp_path / "gcloud")}) == (
        f"application default credentials ({tmp_path / 'gcloud' / 'application_default_credentials.json'})")


def test_flink_and_spark_without_an_endpoint_name_the_jar_and_whether_it_is_cached(tmp_path):
    (tmp_path / "beam-runners-spark-3-job-server-2.77.0.jar").write_bytes(b"jar")
    lines = doctor_runners.job_server_lines(None, jars=JARS, jar_cache=str(tmp_path), java=None)
    given = "no job server given (sumflow doctor --job-endpoint HOST:PORT checks one); Beam would start"
    assert lines == [
        f"FlinkRunner: {given} beam-runners-flink-2.2-job-server-2.77.0.jar, not cached: Beam downloads it at "
        f"run time (needs network); java NOT FOUND (the job server runs on Java)",
        f"SparkRunner: {given} beam-runners-spark-3-job-server-2.77.0.jar, cached at "
        f"{tmp_path / 'beam-runners-spark-3-job-server-2.77.0.jar'}; java NOT FOUND (the job server runs on Java)",
        "PortableRunner: needs --job_endpoint HOST:PORT; `--job_endpoint embed --environment_type LOOPBACK` runs "
        "the job in this process"]


def test_a_given_job_server_is_reachable_or_not(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        endpoint = f"127.0.0.1:{server.getsockname()[1]}"
        assert doctor_runners.job_server_lines(endpoint, jars=JARS, jar_cache=str(tmp_path), java="/bin/java") == [
            f"FlinkRunner, SparkRunner, PortableRunner: job server {endpoint} reachable "
            f"(they submit to it with --job_endpoint {endpoint})"]
    # the port is closed now
    assert doctor_runners.reachable(endpoint).startswith("ConnectionRefusedError")
    assert doctor_runners.reachable("no-port") == "not HOST:PORT"


def test_the_jars_are_beams_job_servers_of_this_beam_version():
    jars = doctor_runners.job_server_jars()
    assert jars["FlinkRunner"].endswith(f"-job-server-{apache_beam.__version__}.jar")
    assert "beam-runners-flink-" in jars["FlinkRunner"]
    assert jars["SparkRunner"].endswith(f"beam-runners-spark-3-job-server-{apache_beam.__version__}.jar")


def test_the_report_has_a_line_per_runner(installed):
    names = [line.split(":")[0] for line in doctor_runners.report(env={})]
    assert names == ["DirectRunner (local FnApiRunner, multi-process)", "DaskRunner (--runner dask)",
                     "DataflowRunner", "FlinkRunner", "SparkRunner", "PortableRunner"]
