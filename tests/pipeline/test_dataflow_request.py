"""The jobs build a Dataflow job request (Beam's `--dry_run`: translated and checked, not submitted). Needs the
gcp extra (`pip install "sumflow[gcp]"`), which CI does not install: skipped there."""

import sys

import apache_beam
import pytest

pytest.importorskip("apitools", reason="the gcp extra is not installed (pip install 'sumflow[gcp]')")
pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed (pip install 'sumflow[gcp]')")

from configs.load import load_config  # noqa: E402
from pipeline.runner import make_pipeline, pipeline_options  # noqa: E402
from tests.fixtures import pairs, write_jsonl  # noqa: E402

DATAFLOW = ["--runner", "DataflowRunner", "--project", "my-project", "--region", "us-central1",
            "--temp_location", "gs://my-bucket/tmp", "--dry_run", "true"]


def _build(job: str, tmp_path):
    from pipeline import preprocess, summarize

    write_jsonl(tmp_path / "pairs.jsonl", pairs(10))
    config = load_config([], ["source.format=jsonl", f"source.paths=[{tmp_path / 'pairs.jsonl'}]",
                              f"summarize.inputs=[{tmp_path / 'pairs.jsonl'}]"])
    p = make_pipeline(pipeline_options(config.beam, DATAFLOW + ["--job_name", f"sumflow-{job}"]))
    if job == "preprocess":
        preprocess.build_analysis(p, config, "gs://my-bucket/out", learn_vocab=True)
    else:
        summarize.build(p, config, "gs://my-bucket/summaries", total=10)
    return p, p.run()


@pytest.mark.parametrize("job,stages", [("preprocess", {"Read", "Clean", "WriteDuplicateLists", "LearnVocabulary"}),
                                        ("summarize", {"Read", "Clean", "Summarize", "Write", "Accounted"})])
def test_the_job_translates_to_a_dataflow_request(job, stages, tmp_path):
    p, result = _build(job, tmp_path)
    assert result.job.proto.name == f"sumflow-{job}"
    assert result.job.proto.type.name == "JOB_TYPE_BATCH"
    pipeline = p.runner.proto_pipeline
    assert stages <= {t.unique_name.split("/")[0] for t in pipeline.components.transforms.values()}
    images = [env.payload for env in pipeline.components.environments.values()]
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert any(f"beam_{python}_sdk:{apache_beam.__version__}".encode() in image for image in images), images
    options = result.job.options.get_all_options(drop_default=True)
    assert (options["project"], options["region"]) == ("my-project", "us-central1")
