"""`FindDuplicates`: exact and near-duplicate articles, and which copy of each group survives.

Exact duplicates share the hash of their case- and whitespace-folded article. Near duplicates are found with
MinHash over word shingles (datasketch) and LSH banding: records sharing any band bucket are candidates, and
a candidate is a duplicate when the signatures estimate Jaccard similarity >= `dedup.threshold`.

In every group one record survives: the one in the most precious split (test, then validation, then train:
evaluation data is never dropped in favour of training data), then the smallest id. The output is the list of
records to drop, each with the id it duplicates; records that were in another split than their survivor make
the cross-split leakage report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems

from contract import text
from configs.schema import DedupConfig
from pipeline.dead_letters import dead_letter

SPLIT_RANK = {"test": 0, "validation": 1, "train": 2}
# datasketch's MinHash values are below 2**32 (its _max_hash): uint32 holds them exactly, in half the bytes
# of its uint64 (what the signature joins hold per record).
SIGNATURE_DTYPE = np.uint32


def exact_key(article: str) -> str:
    return hashlib.sha1(" ".join(article.lower().split()).encode("utf-8")).hexdigest()


def shingles(article: str, n: int) -> list[bytes]:
    words = text.units(article)  # words; Han/kana characters one by one
    if len(words) <= n:
        return [" ".join(words).encode("utf-8")]
    return [" ".join(words[i:i + n]).encode("utf-8") for i in range(len(words) - n + 1)]


class MinHasher:
    """MinHash signatures (datasketch's permutations, fixed seed: identical on every worker)."""

    def __init__(self, cfg: DedupConfig):
        from datasketch import MinHash

        self._cfg = cfg
        self._template = MinHash(num_perm=cfg.num_perm, seed=1)

    def signature(self, article: str) -> np.ndarray:
        m = self._template.copy()
        m.update_batch(shingles(article, self._cfg.shingle_words))
        return m.hashvalues.astype(SIGNATURE_DTYPE)

    def band_keys(self, signature: np.ndarray) -> list[str]:
        rows = self._cfg.num_perm // self._cfg.bands
        return [f"{b}:{hashlib.sha1(signature[b * rows:(b + 1) * rows].tobytes()).hexdigest()[:16]}"
                for b in range(self._cfg.bands)]


def _member(record: dict) -> tuple:
    return (SPLIT_RANK.get(record["split"], 3), record["id"], record["split"])


@beam.typehints.with_output_types(tuple[str, tuple[int, str, str]])  # main output; the tagged one is not typed
class _NearKeys(beam.DoFn):
    """record -> (band key, member) for each band, and (id, signature bytes) once, tagged "signature".

    The bands carry no signature: each record sits in every band's group, so what a band element carries is
    what the band GroupByKey holds `bands` times per record (the local runner holds it in memory). The
    signature is joined in once, for the rare members of a shared bucket.
    """

    def __init__(self, cfg: DedupConfig):
        self._cfg = cfg

    def setup(self):
        self._hasher = MinHasher(self._cfg)

    def process(self, record):
        signature = self._hasher.signature(record["article"])
        yield pvalue.TaggedOutput("signature", (record["id"], signature.tobytes()))
        member = _member(record)
        for key in self._hasher.band_keys(signature):
            yield key, member


def _exact_drops(group):
    _, members = group
    members = sorted(members)
    keeper = members[0]
    for rank, record_id, split in members[1:]:
        yield {"id": record_id, "reason": "duplicate_exact", "split": split, "kept_id": keeper[1],
               "kept_split": keeper[2], "similarity": 1.0}


def _bucket_candidates(group):
    """A band bucket -> (member id, (keeper id, keeper split, member split)) for each member but its keeper."""
    _, members = group
    if len(members) < 2:
        return
    members = sorted(members)
    keeper = members[0]
    for rank, record_id, split in members[1:]:
        if record_id != keeper[1]:
            yield record_id, (keeper[1], keeper[2], split)


def _with_member_signatures(joined):
    """(member id, {signature, candidate}) -> (keeper id, (member id, member split, keeper split, signatures))."""
    record_id, parts = joined
    signatures = list(parts["signature"])
    for keeper_id, keeper_split, split in sorted(set(parts["candidate"])):
        yield keeper_id, (record_id, split, keeper_split, signatures)


def similarity(signatures_a, signatures_b) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values (the highest over the signatures of
    records that share an id)."""
    return max(float(np.mean(np.frombuffer(a, dtype=SIGNATURE_DTYPE) == np.frombuffer(b, dtype=SIGNATURE_DTYPE)))
               for a in signatures_a for b in signatures_b)


def _near_drops(joined, threshold: float):
    """(keeper id, {signature, candidate}) -> a drop for each candidate at least `threshold` similar."""
    keeper_id, parts = joined
    keeper_signatures = list(parts["signature"])
    for record_id, split, keeper_split, signatures in parts["candidate"]:
        value = similarity(signatures, keeper_signatures)
        if value >= threshold:
            yield {"id": record_id, "reason": "near_duplicate", "split": split, "kept_id": keeper_id,
                   "kept_split": keeper_split, "similarity": round(value, 4)}


def _first_reason(drops):
    """One drop per id: an exact duplicate wins over a near one, then the smallest kept id."""
    return min(drops, key=lambda d: (d["reason"] != "duplicate_exact", d["kept_id"]))


class FindDuplicates(beam.PTransform):
    """cleaned records -> drop dicts {id, reason, split, kept_id, kept_split, similarity}, one per dropped id."""

    def __init__(self, cfg: DedupConfig):
        super().__init__()
        self._cfg = cfg

    def expand(self, records):
        cfg = self._cfg
        drops = []
        if cfg.exact:
            drops.append(records
                         | "ExactKey" >> beam.Map(lambda r: (exact_key(r["article"]), _member(r)))
                         | "GroupExact" >> beam.GroupByKey()
                         | "ExactDrops" >> beam.FlatMap(_exact_drops))
        if cfg.near:
            keyed = records | "BandKeys" >> beam.ParDo(_NearKeys(cfg)).with_outputs("signature", main="bands")
            signatures = keyed["signature"]
            candidates = keyed["bands"] | "GroupBands" >> beam.GroupByKey() | "Candidates" >> beam.FlatMap(
                _bucket_candidates)
            with_member = ({"signature": signatures, "candidate": candidates} | "JoinMember" >> beam.CoGroupByKey()
                           | "MemberSignatures" >> beam.FlatMap(_with_member_signatures))
            drops.append({"signature": signatures, "candidate": with_member} | "JoinKeeper" >> beam.CoGroupByKey()
                         | "NearDrops" >> beam.FlatMap(_near_drops, threshold=cfg.threshold))
        if not drops:
            return records.pipeline | "NoDuplicates" >> beam.Create([])
        return (drops | "AllDrops" >> beam.Flatten()
                | "ById" >> beam.Map(lambda d: (d["id"], d))
                | "OnePerId" >> beam.CombinePerKey(_first_reason)
                | "Values" >> beam.Values())


def leakage_report(drops: list[dict]) -> dict:
    """Duplicates whose survivor sits in another split: counts per (dropped split -> kept split), examples."""
    pairs: dict[str, int] = {}
    examples: list[dict] = []
    for d in drops:
        if d["split"] != d["kept_split"]:
            key = f"{d['split']}->{d['kept_split']}"
            pairs[key] = pairs.get(key, 0) + 1
            if len(examples) < 20:
                examples.append({k: d[k] for k in ("id", "kept_id", "reason", "similarity")})
    return {"cross_split_duplicates": sum(pairs.values()), "by_split_pair": dict(sorted(pairs.items())),
            "examples": examples}


@dataclasses.dataclass(frozen=True)
class DuplicateLists:
    """Where pass one of preprocess writes what it found and pass two reads it: one definition of the names.

    `duplicates-*.jsonl`: the records to drop, each with the id it duplicates; `duplicate_ids-*.txt`: ids that
    occur more than once. Both in `directory` (the job's `analysis/`).
    """

    directory: str

    @property
    def drops_prefix(self) -> str:
        return FileSystems.join(self.directory, "duplicates")

    @property
    def drops_pattern(self) -> str:
        return self.drops_prefix + "*.jsonl"

    @property
    def ids_prefix(self) -> str:
        return FileSystems.join(self.directory, "duplicate_ids")

    @property
    def ids_pattern(self) -> str:
        return self.ids_prefix + "*.txt"

    def drops(self) -> list[dict]:
        return [json.loads(line) for line in _read_lines(self.drops_pattern)]

    def repeated_ids(self) -> set[str]:
        return set(_read_lines(self.ids_pattern))

    def found(self) -> tuple[bool, bool]:
        """(any drops, any repeated ids): whether the files hold anything (absent when pass one did not run)."""
        return _has_content(self.drops_pattern), _has_content(self.ids_pattern)


class WriteDuplicateLists(beam.PTransform):
    """cleaned records -> the two lists of `DuplicateLists` (pass one)."""

    def __init__(self, cfg: DedupConfig, lists: DuplicateLists):
        super().__init__()
        self._cfg, self._lists = cfg, lists

    def expand(self, records):
        (records | "FindDuplicates" >> FindDuplicates(self._cfg)
         | "DropsJson" >> beam.Map(lambda d: json.dumps(d, sort_keys=True))
         | "WriteDrops" >> beam.io.WriteToText(self._lists.drops_prefix, file_name_suffix=".jsonl"))
        return (records | "DuplicateIds" >> DuplicateIds()
                | "WriteDuplicateIds" >> beam.io.WriteToText(self._lists.ids_prefix, file_name_suffix=".txt"))


class _ApplyDrops(beam.DoFn):
    """Drops the records pass one marked as duplicates (the lists are loaded once per worker, in setup)."""

    def __init__(self, lists: DuplicateLists):
        self._lists = lists

    def setup(self):
        self._drops = {d["id"]: d for d in self._lists.drops()}
        self._duplicate_ids = self._lists.repeated_ids()

    def process(self, record):
        drop = self._drops.get(record["id"])
        if drop is not None and drop["kept_id"] != record["id"]:
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
    """cleaned records -> {records, same_id, dropped}, using the drop list and duplicate-id list of pass one.

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
        any_drops, repeated_ids = self._lists.found()
        if not (repeated_ids or any_drops):  # dedup off, or nothing found: no step
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
