"""`FindDuplicates`: exact and near-duplicate articles, and which copy of each group survives.

Exact duplicates share the hash of their case- and whitespace-folded article. Near duplicates are found with
MinHash over word shingles (datasketch) and LSH banding: records sharing any band bucket are candidates, and
a candidate is a duplicate when the signatures estimate Jaccard similarity >= `dedup.threshold`.

In every group one record survives: the one in the most precious split (test, then validation, then train:
evaluation data is never dropped in favour of training data), then the smallest id. The output is the list of
records to drop, each with the id it duplicates; records that were in another split than their survivor make
the cross-split leakage report.

Appending to a dataset (pipeline/append.py), the records of its earlier generations take part through the
dataset's index (pipeline/duplicate_lists.py: each record's id, split, exact key and signature): they come first
in every group and are never dropped (their shards are written), so a new record that duplicates an earlier
one is dropped, and the new records among themselves follow the rules above.
"""

from __future__ import annotations

import base64
import hashlib

import apache_beam as beam
import numpy as np
from apache_beam import pvalue

from contract import text
from configs.schema import DedupConfig

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


NEW, EARLIER = 1, 0  # a member's age: a record of this run, or of an earlier generation (sorted first)


def _member(record: dict, age: int = NEW) -> tuple:
    return (age, SPLIT_RANK.get(record["split"], 3), record["id"], record["split"])


@beam.typehints.with_output_types(tuple[str, tuple[int, int, str, str]])  # main output; the tagged one is not typed
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
        yield pvalue.TaggedOutput("index", index_entry(record, self._cfg, signature))
        member = _member(record)
        for key in self._hasher.band_keys(signature):
            yield key, member


class _EarlierNearKeys(_NearKeys):
    """An index entry of an earlier generation -> its band keys and signature, as `_NearKeys` gives them."""

    def process(self, entry):
        signature = entry_signature(entry)
        yield pvalue.TaggedOutput("signature", (entry["id"], signature.tobytes()))
        member = _member(entry, EARLIER)
        for key in self._hasher.band_keys(signature):
            yield key, member


def index_entry(record: dict, cfg: DedupConfig, signature: np.ndarray | None = None) -> dict:
    """What the dataset's index keeps of a record (pipeline/duplicate_lists.py): id, split, and what the
    enabled rules compare (exact key; MinHash signature, base64)."""
    entry = {"id": record["id"], "split": record["split"]}
    if cfg.exact:
        entry["exact"] = exact_key(record["article"])
    if signature is not None:
        entry["signature"] = base64.b64encode(signature.astype(SIGNATURE_DTYPE).tobytes()).decode("ascii")
    return entry


def entry_signature(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["signature"]), dtype=SIGNATURE_DTYPE)


def _exact_drops(group):
    _, members = group
    members = sorted(members)
    keeper = members[0]
    for age, rank, record_id, split in members[1:]:
        if age == NEW:  # an earlier generation's record stays: its shards are written
            yield {"id": record_id, "reason": "duplicate_exact", "split": split, "kept_id": keeper[2],
                   "kept_split": keeper[3], "similarity": 1.0}


def _bucket_candidates(group):
    """A band bucket -> (member id, (keeper id, keeper split, member split)) for each new member but its
    keeper."""
    _, members = group
    if len(members) < 2:
        return
    members = sorted(members)
    keeper = members[0]
    for age, rank, record_id, split in members[1:]:
        if age == NEW and record_id != keeper[2]:
            yield record_id, (keeper[2], keeper[3], split)


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
    """cleaned records -> {"drops": drop dicts {id, reason, split, kept_id, kept_split, similarity}, one per
    dropped id; "index": the records' index entries (`index_entry`)}.

    earlier: the index entries of the dataset's earlier generations (appending; module doc), or None.
    """

    def __init__(self, cfg: DedupConfig, earlier: beam.PCollection | None = None):
        super().__init__()
        self._cfg, self._earlier = cfg, earlier

    def expand(self, records):
        cfg, earlier = self._cfg, self._earlier
        drops = []
        index = None
        if cfg.exact:
            keys = records | "ExactKey" >> beam.Map(lambda r: (exact_key(r["article"]), _member(r)))
            if earlier is not None:
                keys = (keys, earlier | "EarlierExactKey" >> beam.Map(lambda e: (e["exact"], _member(e, EARLIER)))
                        ) | "AllExactKeys" >> beam.Flatten()
            drops.append(keys
                         | "GroupExact" >> beam.GroupByKey()
                         | "ExactDrops" >> beam.FlatMap(_exact_drops))
        if cfg.near:
            keyed = records | "BandKeys" >> beam.ParDo(_NearKeys(cfg)).with_outputs("signature", "index",
                                                                                    main="bands")
            signatures, bands, index = keyed["signature"], keyed["bands"], keyed["index"]
            if earlier is not None:
                old = earlier | "EarlierBandKeys" >> beam.ParDo(_EarlierNearKeys(cfg)).with_outputs(
                    "signature", main="bands")
                signatures = (signatures, old["signature"]) | "AllSignatures" >> beam.Flatten()
                bands = (bands, old["bands"]) | "AllBands" >> beam.Flatten()
            candidates = bands | "GroupBands" >> beam.GroupByKey() | "Candidates" >> beam.FlatMap(
                _bucket_candidates)
            with_member = ({"signature": signatures, "candidate": candidates} | "JoinMember" >> beam.CoGroupByKey()
                           | "MemberSignatures" >> beam.FlatMap(_with_member_signatures))
            drops.append({"signature": signatures, "candidate": with_member} | "JoinKeeper" >> beam.CoGroupByKey()
                         | "NearDrops" >> beam.FlatMap(_near_drops, threshold=cfg.threshold))
        if index is None:
            index = records | "IndexEntries" >> beam.Map(index_entry, cfg)
        if not drops:
            return {"drops": records.pipeline | "NoDuplicates" >> beam.Create([]), "index": index}
        return {"drops": (drops | "AllDrops" >> beam.Flatten()
                          | "ById" >> beam.Map(lambda d: (d["id"], d))
                          | "OnePerId" >> beam.CombinePerKey(_first_reason)
                          | "Values" >> beam.Values()),
                "index": index}


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
