"""`sumflow doctor` with TensorFlow, tensorflow_text and the Beam runner modules stood in for: its report is then
exact on every machine, and the test takes milliseconds."""

import importlib
import importlib.machinery
import importlib.util
import os
import platform
import sys
import types

import pytest
from click.testing import CliRunner

from jobs import cli, doctor

HOME = os.path.dirname(os.path.dirname(os.path.abspath(doctor.__file__)))


def test_our_packages_are_setup_pys():
    assert doctor.OUR_PACKAGES == ("workspace", "configs", "contract", "pipeline", "model", "evaluation", "jobs")
    setup_py = open(os.path.join(HOME, "setup.py")).read()
    assert ('PACKAGES = ["workspace", "configs", "contract", "pipeline", "model", "evaluation", "jobs"]'
            in setup_py)


def test_nothing_is_foreign_in_this_checkout():
    assert doctor.foreign_packages() == {}


def test_a_package_of_the_same_name_earlier_on_the_path_is_reported(tmp_path, monkeypatch):
    (tmp_path / "evaluation").mkdir()
    (tmp_path / "evaluation" / "__init__.py").write_text("")
    (tmp_path / "model.py").write_text("")  # a single-file module clashes too
    monkeypatch.syspath_prepend(str(tmp_path))
    # find_spec answers from sys.modules for a name already imported; look the names up afresh
    for name in ("evaluation", "model"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert doctor.foreign_packages() == {"evaluation": str(tmp_path / "evaluation" / "__init__.py"),
                                         "model": str(tmp_path / "model.py")}


def test_a_folder_without_init_does_not_shadow_ours(tmp_path, monkeypatch):
    (tmp_path / "contract").mkdir()  # a namespace portion: a regular package later on the path wins
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "contract", raising=False)
    assert doctor.foreign_packages() == {}


def test_a_namespace_package_is_named_as_such(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "pipeline":
            return importlib.machinery.ModuleSpec("pipeline", None, is_package=True)  # origin None
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert doctor.foreign_packages() == {"pipeline": "a namespace package (no __init__.py)"}


@pytest.fixture
def machine(monkeypatch):
    """A fixed machine: Python 3.99.1 on riscv64 with 7 cores, no GPU; the runner lines stood in for
    (tests/jobs/test_doctor_runners.py tests them)."""
    from jobs import doctor_runners

    monkeypatch.setattr(platform, "python_version", lambda: "3.99.1")
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    monkeypatch.setattr(doctor, "PACKAGES", ("sumflow", "sumflow-no-such-dist"))
    endpoints = []

    def report(job_endpoint):
        endpoints.append(job_endpoint)
        return ["DirectRunner (local FnApiRunner, multi-process): ready", "FlinkRunner: no job server given"]

    monkeypatch.setattr(doctor_runners, "report", report)
    devices = []
    tf = types.ModuleType("tensorflow")
    tf.config = types.SimpleNamespace(list_physical_devices=lambda kind: devices if kind == "GPU" else [])
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    monkeypatch.setitem(sys.modules, "tensorflow_text", types.ModuleType("tensorflow_text"))
    return types.SimpleNamespace(devices=devices, endpoints=endpoints)


def _doctor(*args: str):
    # Through the group, as `sumflow doctor` runs: click caches a command's help option from the first context
    # it sees, so invoking the bare command would leave `sumflow doctor -h` unknown for later tests.
    return CliRunner().invoke(cli.main, ["doctor", *args], prog_name="sumflow")


REPORT = """\
python 3.99.1 (riscv64, 7 cores)
  sumflow              0.1.0
  sumflow-no-such-dist NOT INSTALLED
  packages workspace, configs, contract, pipeline, model, evaluation, jobs: sumflow's own
beam runners:
  DirectRunner (local FnApiRunner, multi-process): ready
  FlinkRunner: no job server given
gpu: none visible (training runs on CPU)
tensorflow-text ops: loaded
"""


def test_the_report(machine):
    result = _doctor()
    assert result.exit_code == 0
    assert result.stdout == REPORT
    assert _doctor("--job-endpoint", "flink-host:8099").exit_code == 0
    assert machine.endpoints == [None, "flink-host:8099"]


def test_the_report_names_gpus_a_clash_and_broken_text_ops(machine, monkeypatch):
    machine.devices.extend([types.SimpleNamespace(name="/physical_device:GPU:0"),
                            types.SimpleNamespace(name="/physical_device:GPU:1")])
    monkeypatch.setattr(doctor, "foreign_packages", lambda: {"model": "/site-packages/model/__init__.py"})
    monkeypatch.setitem(sys.modules, "tensorflow_text", None)  # import fails
    lines = _doctor().stdout.splitlines()
    assert lines[3] == ("  PACKAGE NAME CLASH: `model` is imported from /site-packages/model/__init__.py, not "
                        "sumflow's; uninstall that package or install sumflow in its own virtual environment")
    assert lines[-2:] == ["gpu: /physical_device:GPU:0, /physical_device:GPU:1",
                          "tensorflow-text ops: FAILED (import of tensorflow_text halted; None in sys.modules)"]


def test_a_package_that_is_not_installed_is_named_as_such(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "evaluation"
                        else real(name, *args))
    assert doctor.foreign_packages() == {"evaluation": "not installed (reinstall sumflow)"}
