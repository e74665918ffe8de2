"""What preprocess's pass one finds and pass two applies: the duplicate lists and the dataset's record index.

Pass one (`WriteDuplicateLists`) writes into the job's `analysis/`, for one generation of the dataset (the
first, a full build, has no tag in its names; an appended one `-gNNNN`, pipeline/append.py):
  duplicates{tag}-*.jsonl     the records to drop, each with the id it duplicates (pipeline/dedup.py)
  duplicate_ids{tag}-*.txt    ids that occur more than once among the generation's records
  earlier_ids{tag}-*.txt      ids that an earlier generation already holds (appending only)
  index{tag}-*.jsonl          every cleaned record's id, split, exact key and MinHash signature: what a later
                              append deduplicates its new records against
Pass two (`ApplyDuplicates`) drops what the lists say, keeping one record of each repeated id.
"""

from __future__ import annotations

import dataclasses
import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from configs.schema import DedupConfig
from pipeline.dead_letters import dead_letter
from pipeline.dedup import FindDuplicates

INDEX_NAME = "index"  # analysis/index{tag}-SSSSS-of-NNNNN.jsonl


def generation_tag(generation: int) -> str:
    """The names' tag of a dataset generation: "" for the first (a full build), "-g0001" ... for appends."""
    return f"-g{generation:04d}" if generation else ""


def index_pattern(directory: str) -> str:
    """Every generation's index files in `directory`."""
    return FileSystems.join(directory, INDEX_NAME + "*.jsonl")


@dataclasses.dataclass(frozen=True)
class DuplicateLists:
    """Where pass one of one generation writes what it found and pass two reads it: one definition of the
    names (module doc). `directory` is the job's `analysis/`."""

    directory: str
    generation: int = 0

    def _prefix(self, name: str) -> str:
        return FileSystems.join(self.directory, name + generation_tag(self.generation))

    def _pattern(self, name: str, suffix: str) -> str:
        return self._prefix(name) + "-[0-9]*" + suffix  # WriteToText's "-SSSSS-of-NNNNN": no other tag's

    @property
    def drops_prefix(self) -> str:
        return self._prefix("duplicates")

    @property
    def ids_prefix(self) -> str:
        return self._prefix("duplicate_ids")

    @property
    def earlier_ids_prefix(self) -> str:
        return self._prefix("earlier_ids")

    @property
    def index_prefix(self) -> str:
        return self._prefix(INDEX_NAME)

    def drops(self) -> list[dict]:
        return [json.loads(line) for line in _read_lines(self._pattern("duplicates", ".jsonl"))]

    def repeated_ids(self) -> set[str]:
        return set(_read_lines(self._pattern("duplicate_ids", ".txt")))

    def earlier_ids(self) -> dict[str, str]:
        """{id: its split} of the generation's records whose id an earlier generation holds."""
        return dict(json.loads(line) for line in _read_lines(self._pattern("earlier_ids", ".txt")))

    def found(self) -> tuple[bool, bool, bool]:
        """(any drops, any repeated ids, any earlier ids): whether the files hold anything (absent when pass one
        did not run)."""
        return tuple(_has_content(self._pattern(name, suffix)) for name, suffix in (
            ("duplicates", ".jsonl"), ("duplicate_ids", ".txt"), ("earlier_ids", ".txt")))


def all_drops(directory: str) -> list[dict]:
    """The drops of every generation in `directory` (for the leakage report)."""
    return [json.loads(line) for line in _read_lines(FileSystems.join(directory, "duplicates*.jsonl"))]


class ReadIndex(beam.PTransform):
    """pipeline -> the index entries of every generation in `directory` (pipeline/dedup.py `index_entry`)."""

    def __init__(self, directory: str):
        super().__init__()
        self._directory = directory

    def expand(self, pbegin):
        return (pbegin | "ReadIndexFiles" >> beam.io.ReadFromText(index_pattern(self._directory))
                | "ParseIndex" >> beam.Map(json.loads))


class WriteDuplicateLists(beam.PTransform):
    """cleaned records -> the lists of `DuplicateLists` and the generation's index (pass one).

    earlier: the index entries of the dataset's earlier generations, when appending (else None).
    """

    def __init__(self, cfg: DedupConfig, lists: DuplicateLists, earlier: beam.PCollection | None = None):
        super().__init__()
        self._cfg, self._lists, self._earlier = cfg, lists, earlier

    def expand(self, records):
        found = records | "FindDuplicates" >> FindDuplicates(self._cfg, self._earlier)
        (found["drops"] | "DropsJson" >> beam.Map(lambda d: json.dumps(d, sort_keys=True))
         | "WriteDrops" >> beam.io.WriteToText(self._lists.drops_prefix, file_name_suffix=".jsonl"))
        (found["index"] | "IndexJson" >> beam.Map(lambda e: json.dumps(e, sort_keys=True))
         | "WriteIndex" >> beam.io.WriteToText(self._lists.index_prefix, file_name_suffix=".jsonl"))
        if self._earlier is not None:
            (({"new": records | "NewIds" >> beam.Map(lambda r: (r["id"], r["split"])),
               "earlier": self._earlier | "EarlierIds" >> beam.Map(lambda e: (e["id"], e["split"]))})
             | "JoinIds" >> beam.CoGroupByKey()
             | "HeldEarlier" >> beam.FlatMap(lambda kv: [json.dumps([kv[0], sorted(kv[1]["earlier"])[0]])]
                                             if kv[1]["new"] and kv[1]["earlier"] else [])
             | "WriteEarlierIds" >> beam.io.WriteToText(self._lists.earlier_ids_prefix, file_name_suffix=".txt"))
        return (records | "DuplicateIds" >> DuplicateIds()
                | "WriteDuplicateIds" >> beam.io.WriteToText(self._lists.ids_prefix, file_name_suffix=".txt"))


class _ApplyDrops(beam.DoFn):
    """Drops the records pass one marked as duplicates (the lists are loaded once per worker, in setup)."""

    def __init__(self, lists: DuplicateLists):
        self._lists = lists

    def setup(self):
        self._drops = {d["id"]: d for d in self._lists.drops()}
        self._duplicate_ids = self._lists.repeated_ids()
        self._earlier_ids = self._lists.earlier_ids()

    def process(self, record):
        drop = self._drops.get(record["id"])
        if record["id"] in self._earlier_ids:
            yield beam.pvalue.TaggedOutput("dropped", dead_letter(
                id=record["id"], reason="duplicate_id",
                detail=f"the dataset already holds a record with this id ({self._earlier_ids[record['id']]}, an "
                       f"earlier generation); ids must be unique"))
        elif drop is not None and drop["kept_id"] != record["id"]:
            yield beam.pvalue.TaggedOutput("dropped", dead_letter(
                id=record["id"], reason=drop["reason"],
                detail=f"duplicate of {drop['kept_id']} ({drop['kept_split']}, similarity {drop['similarity']})"))
        elif record["id"] in self._duplicate_ids:
            yield beam.pvalue.TaggedOutput("same_id", (record["id"], record))
        else:
            yield record


def _resolve_same_id(group):
    """Several records under one id: keep one (the smallest content, so the choice is stable), drop the rest."""
    record_id, records = group
    records = sorted(records, key=lambda r: (r["article"], r["summary"]))
    yield records[0]
    for _ in records[1:]:
        yield beam.pvalue.TaggedOutput("dropped", dead_letter(
            id=record_id, reason="duplicate_id", detail="another record has this id; ids must be unique"))


def _read_lines(pattern: str) -> list[str]:
    lines = []
    for metadata in FileSystems.match([pattern])[0].metadata_list:
        with FileSystems.open(metadata.path) as f:
            lines.extend(line for line in f.read().decode("utf-8").splitlines() if line)
    return lines


def _has_content(pattern: str) -> bool:
    """Whether any file matching `pattern` is non-empty."""
    return any(m.size_in_bytes > 0 for m in FileSystems.match([pattern])[0].metadata_list)


class ApplyDuplicates(beam.PTransform):
    """cleaned records -> {records, same_id, dropped}, using the lists of pass one.

    `records` is the main stream, untouched by any shuffle. Records whose id occurs more than once must meet
    in a GroupByKey to pick one survivor; those survivors come out as `same_id`, a stream of their own (None
    when pass one found no repeated id). They are kept apart on purpose: flattening them into the main stream
    would make the local runner buffer every record of the job between stages (memory growing with input).
    When pass one found nothing (or did not run), the records pass through with no per-record step and
    `dropped` is None.
    """

    def __init__(self, lists: DuplicateLists):
        super().__init__()
        self._lists = lists

    def expand(self, records):
        # Pass one has finished when this is built: what it found decides the shape of this pass.
        any_drops, repeated_ids, earlier_ids = self._lists.found()
        if not (repeated_ids or any_drops or earlier_ids):  # dedup off, or nothing found: no step
            return {"records": records, "same_id": None, "dropped": None}
        applied = records | "Drop" >> beam.ParDo(_ApplyDrops(self._lists)).with_outputs(
            "dropped", "same_id", main="records")
        if not repeated_ids:
            return {"records": applied["records"], "same_id": None, "dropped": applied["dropped"]}
        resolved = (applied["same_id"] | "GroupSameId" >> beam.GroupByKey()
                    | "Resolve" >> beam.FlatMap(_resolve_same_id).with_outputs("dropped", main="records"))
        return {"records": applied["records"], "same_id": resolved["records"],
                "dropped": (applied["dropped"], resolved["dropped"]) | "Dropped" >> beam.Flatten()}


class DuplicateIds(beam.PTransform):
    """records -> ids that occur more than once."""

    def expand(self, records):
        return (records | "Ids" >> beam.Map(lambda r: r["id"])
                | "CountIds" >> beam.combiners.Count.PerElement()
                | "Repeated" >> beam.Filter(lambda kv: kv[1] > 1)
                | "Keys" >> beam.Keys())
