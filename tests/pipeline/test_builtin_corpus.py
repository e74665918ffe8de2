import os
import subprocess
import sys
import textwrap

import pytest

from pipeline import builtin_corpus
from configs.schema import ConfigError
from pipeline.builtin_corpus import MIN_BODY_WORDS, ModuleFile, docstring_pairs, module_files, split_docstring

BODY = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
       "seventeen eighteen nineteen twenty"  # MIN_BODY_WORDS words

SOURCE = textwrap.dedent('''\
    """Module summary in words.

    ''' + BODY + '''
    """


    class Widget:
        """A widget that turns.

        It turns
        and turns. ''' + BODY + '''

        Second paragraph.
        """

        def spin(self):
            """Spin the widget around.

            ''' + BODY + '''
            """

            def inner():
                """Inner helper of spin.

                ''' + BODY + '''
                """

        async def wait(self):
            """Wait for the widget.

            ''' + BODY + '''
            """

        def bare(self):
            """Only a summary line, no body."""


    def short():
        """Has too short a body.

        Just five words here now.
        """
    ''')


def test_min_body_words_is_twenty():
    assert MIN_BODY_WORDS == 20 == len(BODY.split())


def test_a_docstring_splits_into_its_summary_paragraph_and_body():
    doc = f"Return the\n  parsed   value.\n\n{BODY}\n\n\n\nMore   text\nhere."
    assert split_docstring(doc) == ("Return the parsed value.", BODY + "\nMore text here.")


@pytest.mark.parametrize("doc", [
    "",
    "Only one paragraph, however long it is: " + BODY,
    "Two words.\n\n" + BODY,  # a summary needs three words
    "Summary of three.\n\n" + BODY.rsplit(" ", 1)[0],  # nineteen body words
    "Summary of three.\n\n\n\n",
])
def test_docstrings_without_a_body_worth_summarising_give_nothing(doc):
    assert split_docstring(doc) is None


def test_the_shortest_pair_kept():
    assert split_docstring("Summary of three.\n\n" + BODY) == ("Summary of three.", BODY)


def _tree(root, rels):
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_the_files_of_a_package_are_sorted_and_leave_out_tests_and_vendored_trees(tmp_path, monkeypatch):
    _tree(tmp_path, ("pkg/__init__.py", "pkg/b.py", "pkg/a.py", "pkg/notes.txt", "pkg/tests/t.py", "pkg/test/x.py",
                     "pkg/.hidden/h.py", "pkg/__pycache__/c.py", "pkg/_vendor/v.py", "pkg/sub/deep.py", "other.py"))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert module_files(["pkg", "other"]) == [
        ModuleFile("pkg", str(tmp_path / "pkg/__init__.py"), "pkg"),
        ModuleFile("pkg", str(tmp_path / "pkg/a.py"), "pkg.a"),
        ModuleFile("pkg", str(tmp_path / "pkg/b.py"), "pkg.b"),
        ModuleFile("pkg", str(tmp_path / "pkg/sub/deep.py"), "pkg.sub.deep"),
        ModuleFile("other", str(tmp_path / "other.py"), "other"),  # a single-file module
    ]


def test_a_source_named_twice_is_read_once(tmp_path, monkeypatch):
    _tree(tmp_path, ("pkg/__init__.py",))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert len(module_files(["pkg", "pkg"])) == 1


@pytest.mark.parametrize("name", ["no_such_package_here", "not-an-identifier", ""])
def test_a_source_that_is_not_installed_is_a_config_error(name):
    with pytest.raises(ConfigError) as e:
        module_files([name])
    assert str(e.value) == (f"source.builtin_packages: no installed Python package named {name!r}; "
                            "use `stdlib` or the import name of an installed package")


def test_docstring_pairs_of_a_module_its_classes_and_nested_functions(tmp_path):
    path = tmp_path / "pkg" / "mod.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    records = docstring_pairs(ModuleFile("stdlib", str(path), "pkg.mod"))
    assert [(r["id"], r["summary"]) for r in records] == [
        ("stdlib:pkg.mod", "Module summary in words."),
        ("stdlib:pkg.mod.Widget", "A widget that turns."),
        ("stdlib:pkg.mod.Widget.spin", "Spin the widget around."),
        ("stdlib:pkg.mod.Widget.spin.inner", "Inner helper of spin."),
        ("stdlib:pkg.mod.Widget.wait", "Wait for the widget."),
    ]
    assert records[1] == {"id": "stdlib:pkg.mod.Widget", "article": f"It turns and turns. {BODY}\nSecond paragraph.",
                          "summary": "A widget that turns.", "split": "", "origin": str(path)}
    assert {r["article"] for r in records[2:]} == {BODY}


def test_with_names_each_article_starts_with_the_name_of_what_it_documents(tmp_path):
    path = tmp_path / "pkg" / "mod.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    records = docstring_pairs(ModuleFile("stdlib", str(path), "pkg.mod"), with_names=True)
    assert [r["article"].split(": ", 1)[0] for r in records] == [
        "pkg.mod", "Widget", "Widget.spin", "Widget.spin.inner", "Widget.wait"]
    assert records[2]["article"] == f"Widget.spin: {BODY}"
    assert [r["summary"] for r in records] == [r["summary"] for r in docstring_pairs(ModuleFile("stdlib", str(path), "pkg.mod"))]


def test_a_package_source_prefixes_its_ids_with_its_name(tmp_path, monkeypatch):
    path = tmp_path / "pkg" / "__init__.py"
    path.parent.mkdir()
    path.write_text(f'"""Package summary in words.\n\n{BODY}\n"""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    (file,) = module_files(["pkg"])
    assert [r["id"] for r in docstring_pairs(file)] == ["pkg:pkg"]


@pytest.mark.parametrize("content", [b"def broken(:\n    pass\n", b"x = 1\x00\n", b"\xff\xfe not source"])
def test_a_file_that_is_not_python_3_source_gives_no_pairs(tmp_path, content):
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    assert docstring_pairs(ModuleFile("stdlib", str(path), "bad")) == []


def test_a_missing_file_gives_no_pairs(tmp_path):
    assert docstring_pairs(ModuleFile("stdlib", str(tmp_path / "gone.py"), "gone")) == []


def test_the_installed_standard_library_gives_stable_ids():
    root = builtin_corpus.stdlib_dir()
    files = module_files()
    json_init = os.path.join(root, "json", "__init__.py")
    assert ModuleFile("stdlib", json_init, "json") in files
    skipped = ("test", "tests", "idlelib", "lib2to3", "site-packages", "tkinter", "__pycache__")
    assert [f for f in files if set(os.path.relpath(f.path, root).split(os.sep)[:-1]) & set(skipped)] == []
    records = docstring_pairs(ModuleFile("stdlib", json_init, "json"))
    assert [r["id"] for r in records] == ["stdlib:json", "stdlib:json.dump", "stdlib:json.dumps",
                                          "stdlib:json.load", "stdlib:json.loads"]
    assert {r["origin"] for r in records} == {json_init}


def test_every_standard_library_pair_has_an_article_and_a_summary():
    records = [r for file in module_files() for r in docstring_pairs(file)]
    assert len({r["id"] for r in records}) == len(records)  # no id twice: splits are derived from ids
    bad = [r["id"] for r in records if not r["id"].startswith("stdlib:") or r["split"] != ""
           or len(r["summary"].split()) < 3 or len(r["article"].split()) < MIN_BODY_WORDS]
    assert bad == []


def test_an_installed_dependency_is_a_source_read_without_importing_it():
    code = ("import sys; from pipeline.builtin_corpus import module_files, docstring_pairs; "
            "n = sum(len(docstring_pairs(f)) for f in module_files(['rouge_score'])); "
            "print(n, 'rouge_score' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    count, imported = out.stdout.split()
    assert int(count) > 0 and imported == "False"
    files = module_files(["rouge_score"])
    assert {f.module.split(".")[0] for f in files} == {"rouge_score"}
    records = [r for f in files for r in docstring_pairs(f)]
    assert records and all(r["id"].startswith("rouge_score:rouge_score.") for r in records)
