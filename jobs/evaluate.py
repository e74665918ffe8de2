"""`sumflow evaluate`: predictions + references (JSONL) -> ROUGE report with intervals, baselines, statistics.

Exit codes: 0 done, 2 bad usage or config, 3 unusable input (a file missing or malformed, a directory given
as a file, an unfinished sumflow output (no _SUCCESS), ids that do not line up between predictions,
references and the compare system).
"""

from __future__ import annotations

import click

from configs.schema import EvaluateConfig as _Defaults  # help texts quote the schema's defaults
from jobs.options import allow_nonempty_option, config_options, load

@click.command("evaluate")
@config_options
# File options take any path: a directory given for a file is an input error (exit 3), said by the reader.
@click.option("--predictions", type=click.Path(), help="JSONL of system summaries (a file or a glob).")
@click.option("--prediction-field", help=f"Field of the summary in --predictions [{_Defaults.prediction_field}].")
@click.option("--references", type=click.Path(), help="JSONL of references [the predictions file], or a preprocess output with --reference-split.")
@click.option("--reference-split", type=click.Choice(["train", "validation", "test"]),
              help="--references is a `sumflow preprocess` output: take references and articles from this split.")
@click.option("--reference-field",
              help=f"Field of the reference: a string, or a list of strings [{_Defaults.reference_field}].")
@click.option("--id-field", help=f"Field the files are joined on [{_Defaults.id_field}].")
@click.option("--articles", type=click.Path(), help="JSONL of articles (lead-k, oracle, novel n-grams).")
@click.option("--article-field", help=f"Field of the article in --articles [{_Defaults.article_field}].")
@click.option("--compare", type=click.Path(), help="JSONL of a second system (paired bootstrap test).")
@click.option("--compare-field", help="Field of the second system's summary [--prediction-field].")
@click.option("--lead-words", type=int, help="Also score the first N words of each article (AESLC: 4).")
@click.option("--examples", type=int, help="Print (and report) the first N documents: article, reference, summary.")
@click.option("--oracle", is_flag=True, default=None, help="Add the greedy extractive oracle (needs --articles).")
@click.option("--missing-predictions", type=click.Choice(["fail", "skip"]),
              help="A reference with no prediction (e.g. a document summarize dead-lettered): fail refuses the "
                   "report (exit 3); skip scores the documents that have predictions and lists the others "
                   f"(count and ids in report.json, report.md, report.html and on stderr) "
                   f"[{_Defaults.missing_predictions}].")
@click.option("--output-dir", "-o", help=f"Where to write the report [{_Defaults.output_dir}].")
@allow_nonempty_option
def command(configs, overrides, oracle, allow_nonempty, **options):
    """Score summaries with ROUGE-1/2/L/Lsum and write report.json, report.md, report.html and per_document.jsonl.

    \b
    Examples:
      sumflow evaluate --predictions out/summaries.jsonl --references data/test.jsonl -o out/eval
      sumflow evaluate --predictions 'runs/default/summaries/summaries/*.jsonl' \\
          --references runs/default/data --reference-split test
      sumflow evaluate --predictions outputs.jsonl --prediction-field pointer_gen \\
          --compare-field baseline --articles test.jsonl --oracle --set evaluate.workers=2
    """
    # Each option is the evaluate.* key of its name, taken literally; the defaults stay the schema's.
    options["oracle"] = True if oracle else None
    config = load(configs, overrides, {f"evaluate.{key}": value for key, value in options.items()})
    from evaluation import evaluate, report

    result = evaluate.run(config=config, allow_nonempty=allow_nonempty)
    click.echo(report.render_table(result))
    if result["examples"]:
        click.echo(report.render_examples(result))
    missing = result["missing_predictions"]
    if missing["count"]:
        shown = ", ".join(repr(i) for i in missing["ids"][:5]) + (", ..." if missing["count"] > 5 else "")
        click.echo(f"evaluate: {missing['count']} references have no prediction and were not scored: {shown} "
                   f"(all listed in report.json missing_predictions)", err=True)
    click.echo(f"\n{result['documents']} documents; report in {config.evaluate.output_dir}", err=True)
