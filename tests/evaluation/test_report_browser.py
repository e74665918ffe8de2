"""report.html in a real browser: headless Chromium loads it without a console message and shows every system.

Skipped where Debian's chromium is not installed (`apt-get install -y chromium`), as on CI.
"""

import html.parser
import os
import subprocess

import pytest

from configs.load import load_config
from evaluation.evaluate import run
from evaluation.report_html import render_html
from tests.evaluation.test_evaluate import DOCS, write_jsonl
from tests.evaluation.test_report_html import HOSTILE_ID, HOSTILE_NAME, HOSTILE_TEXT, make_report

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")


def load(path, tmp_path) -> tuple[str, str]:
    """(the DOM after loading `path`, Chromium's stderr with the page's console messages)."""
    done = subprocess.run([CHROMIUM, "--headless=new", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
                           "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", f"file://{path}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def console_messages(stderr: str) -> list[str]:
    """The page's console lines: Chromium logs each console call and uncaught error as "...:CONSOLE:...".
    report.html runs no script, so any such line is a fault (an injected script, a broken page)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class _Text(html.parser.HTMLParser):
    """The text a reader sees: everything outside <style>, <script> and <title> (SVG tooltips)."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("style", "script", "title")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("style", "script", "title")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def shown_text(dom: str) -> str:
    parser = _Text()
    parser.feed(dom)
    return " ".join(parser.parts)


def test_the_checker_sees_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><p>shown</p><script>throw new Error("deliberate")</script>')
    dom, stderr = load(page, tmp_path)
    assert any("Uncaught Error: deliberate" in line for line in console_messages(stderr))
    assert shown_text(dom).split() == ["shown"]


def test_a_real_report_loads_cleanly_and_shows_every_system(tmp_path):
    docs = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    compare = write_jsonl(tmp_path / "other.jsonl", [{"id": d["id"], "sys": d["other"]} for d in DOCS])
    out = tmp_path / "out"
    config = load_config(overrides=[f"evaluate.predictions={docs}", f"evaluate.articles={docs}",
                                    f"evaluate.compare={compare}", "evaluate.compare_field=sys", "evaluate.oracle=true",
                                    f"evaluate.output_dir={out}", "evaluate.bootstrap_samples=20",
                                    "evaluate.workers=1"])
    report = run(config=config)
    dom, stderr = load(out / "report.html", tmp_path)
    assert console_messages(stderr) == []
    text = shown_text(dom)
    names = [entry["name"] for entry in report["systems"].values()]
    assert names == ["summary", "sys", "lead-3", "oracle"]
    assert all(name in text for name in names)
    assert dom.count("<svg ") == 5 and dom.count("<mark>") > 0


def test_hostile_strings_stay_text_in_the_browser(tmp_path):
    report, rows = make_report(name=HOSTILE_NAME, ids=(HOSTILE_ID, "d2", "d3", "d4", "d5", "d6"),
                               first_text=HOSTILE_TEXT)
    page = tmp_path / "report.html"
    page.write_text(render_html(report, rows), encoding="utf-8")
    dom, stderr = load(page, tmp_path)
    assert console_messages(stderr) == []  # the payloads call console.error if they ever run
    text = shown_text(dom)
    assert HOSTILE_NAME in text and HOSTILE_ID in text and HOSTILE_TEXT in text and "lead-3" in text
    assert "<script" not in dom and "<img" not in dom
