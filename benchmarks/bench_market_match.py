"""Benchmark: matching quality and latency of the technology market.

What it measures
    * quality on the hand-labelled set in ``benchmarks/data/market/`` (122 offers, 80
      demands in English, Chinese or both, near-miss distractors, 10 demands with no good
      offer; see its README): for each demand with a good offer (grade 2), the rank of the
      first good offer among all offers; hit@1, hit@5 and MRR; and the share of
      (demand, good offer) pairs found in the top 5, split into cross-language pairs (a
      Chinese-only entry and an English-only one) and the rest. The offers and demands go
      into a fresh bank through ``lanhai import`` (published), and ``bank.market.match``
      ranks them, as a user's ``lanhai market match`` would;
    * the same figures, in the same run, for two plain TF-IDF baselines with cosine
      similarity (scikit-learn): words (Chinese segmented with jieba) and character 2-4-grams;
    * latency: one demand against 10,000 offers and one offer against 10,000 demands
      (entries made by recombining the labelled texts), the first match (cold: every entry
      read) and the median of later ones (warm).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_market_match
    .venv/bin/python -m benchmarks.bench_market_match --entries 2000

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lanhai.bank import Bank, init_bank
from lanhai.imports import ImportOptions
from lanhai.services.access import Actor
from lanhai.settings import Settings

DATA = Path(__file__).parent / "data" / "market"
ADMIN = Actor("bench", "admin")
TEXTS = ("title", "title_zh", "summary", "summary_zh", "keywords")


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def language(row: Mapping[str, str]) -> str:
    english = bool(row["title"] or row["summary"])
    chinese = bool(row["title_zh"] or row["summary_zh"])
    return "both" if english and chinese else "en" if english else "zh"


def load(bank: Bank, kind: str, path: Path) -> dict[str, str]:
    """Import ``path`` as published entries; reference -> accession."""
    report = bank.imports.run(ADMIN, path, ImportOptions(
        kind, constants={"market_status": "published"}))
    if not report.committed:
        raise SystemExit(f"{path.name}: {report.problems[:3]}")
    out: dict[str, str] = {}
    with bank.catalog.each(ADMIN, kind) as batches:
        for batch in batches:
            out.update({r.fields["reference"]: r.accession for r in batch})
    return out


def ranks(rank_of: Callable[[str], list[str]], demands: Sequence[Mapping[str, str]],
          good: Mapping[str, set[str]], langs: Mapping[str, str]) -> dict[str, float]:
    """hit@1, hit@5, MRR over demands with a good offer; pair recall@5 by language."""
    first: list[int] = []
    pairs = {"cross": [0, 0], "same": [0, 0]}
    for demand in demands:
        ref = demand["reference"]
        if not good.get(ref):
            continue
        ranking = rank_of(ref)
        positions = [ranking.index(o) + 1 if o in ranking else 10**6 for o in good[ref]]
        first.append(min(positions))
        for offer, position in zip(good[ref], positions, strict=True):
            pair = {langs[ref], langs[offer]}
            key = "cross" if pair == {"en", "zh"} else "same"
            pairs[key][0] += position <= 5
            pairs[key][1] += 1
    n = len(first)
    return {"demands": n, "hit@1": sum(r == 1 for r in first) / n,
            "hit@5": sum(r <= 5 for r in first) / n,
            "MRR": sum(1 / r for r in first) / n,
            "cross-language pairs@5": pairs["cross"][0] / max(1, pairs["cross"][1]),
            "same-language pairs@5": pairs["same"][0] / max(1, pairs["same"][1]),
            "cross pairs": pairs["cross"][1], "same pairs": pairs["same"][1]}


def text_of(row: Mapping[str, str]) -> str:
    return "\n".join(row[f] for f in TEXTS if row.get(f))


def tfidf_ranker(offers: Sequence[Mapping[str, str]], demands: Sequence[Mapping[str, str]],
                 analyzer: str) -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer == "word":
        import jieba

        jieba.setLogLevel(60)
        vectorizer = TfidfVectorizer(tokenizer=lambda t: [w for w in jieba.lcut(t.lower())
                                                          if w.strip()],
                                     token_pattern=None, lowercase=False)
    else:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))
    matrix = vectorizer.fit_transform([text_of(o) for o in offers])
    refs = [o["reference"] for o in offers]
    by_ref = {d["reference"]: d for d in demands}

    def rank_of(ref: str) -> list[str]:
        query = vectorizer.transform([text_of(by_ref[ref])])
        scores = (matrix @ query.T).toarray().ravel()
        return [refs[i] for i in np.argsort(-scores, kind="stable")]
    return rank_of


def quality() -> None:
    offers, demands = read("offers.csv"), read("demands.csv")
    good: dict[str, set[str]] = {}
    for row in read("relevance.csv"):
        if row["grade"] == "2":
            good.setdefault(row["demand"], set()).add(row["offer"])
    langs = {r["reference"]: language(r) for r in [*offers, *demands]}
    with tempfile.TemporaryDirectory() as tmp:
        bank = init_bank(Settings(data_dir=Path(tmp) / "bank"))
        try:
            offer_acc = load(bank, "offer", DATA / "offers.csv")
            demand_acc = load(bank, "demand", DATA / "demands.csv")
            offer_ref = {acc: ref for ref, acc in offer_acc.items()}

            def lanhai(ref: str) -> list[str]:
                result = bank.market.match(ADMIN, demand_acc[ref], top=len(offers) // 2)
                return [offer_ref[m["accession"]] for m in result["matches"]]

            started = time.perf_counter()
            ours = ranks(lanhai, demands, good, langs)
            took = time.perf_counter() - started
            none_best = [bank.market.match(ADMIN, demand_acc[d["reference"]], top=1)
                         for d in demands if not good.get(d["reference"])]
            with_best = [bank.market.match(ADMIN, demand_acc[d["reference"]], top=1)
                         for d in demands if good.get(d["reference"])]
        finally:
            bank.close()
    rows = {"Lanhai (lexicon + words)": ours,
            "TF-IDF, words (jieba)": ranks(tfidf_ranker(offers, demands, "word"), demands,
                                           good, langs),
            "TF-IDF, char 2-4-grams": ranks(tfidf_ranker(offers, demands, "char"), demands,
                                            good, langs)}
    print(f"Quality: {len(offers)} offers, {len(demands)} demands, "
          f"{ours['demands']} with a good offer; {ours['cross pairs']} cross-language and "
          f"{ours['same pairs']} same-language good pairs")
    print(f"{'matcher':28} {'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'cross@5':>8} "
          f"{'same@5':>7}")
    for name, fig in rows.items():
        print(f"{name:28} {fig['hit@1']:6.3f} {fig['hit@5']:6.3f} {fig['MRR']:6.3f} "
              f"{fig['cross-language pairs@5']:8.3f} {fig['same-language pairs@5']:7.3f}")
    print(f"(Lanhai: {took:.1f} s for {ours['demands']} matches, first one included)")
    best = [r["matches"][0]["score"] for r in with_best if r["matches"]]
    empty = [r["matches"][0]["score"] if r["matches"] else 0.0 for r in none_best]
    print(f"top score, demands with a good offer: median {statistics.median(best):.3f}; "
          f"demands with none: median {statistics.median(empty):.3f}, "
          f"max {max(empty):.3f}")


def synthetic(rows: Sequence[Mapping[str, str]], count: int, prefix: str,
              rng: random.Random) -> list[dict[str, str]]:
    """``count`` entries, each the fields of one labelled entry with the summary of
    another appended (so texts differ and vocabulary grows like a real market's)."""
    out = []
    for i in range(count):
        base, other = rng.choice(rows), rng.choice(rows)
        row = dict(base)
        row["reference"] = f"{prefix}{i:06d}"
        row["summary"] = " ".join(x for x in (base["summary"], other["summary"]) if x)
        row["summary_zh"] = "".join(x for x in (base["summary_zh"], other["summary_zh"])
                                    if x)
        out.append(row)
    return out


def write(rows: Sequence[Mapping[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def latency(entries: int) -> None:
    rng = random.Random(7)
    offers, demands = read("offers.csv"), read("demands.csv")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bank = init_bank(Settings(data_dir=folder / "bank"))
        try:
            started = time.perf_counter()
            offer_acc = load(bank, "offer", write(synthetic(offers, entries, "S-O", rng),
                                                  folder / "offers.csv"))
            demand_acc = load(bank, "demand", write(synthetic(demands, entries, "S-D", rng),
                                                    folder / "demands.csv"))
            print(f"\nLatency: {entries:,} offers and {entries:,} demands imported in "
                  f"{time.perf_counter() - started:.0f} s")
            for kind, accessions, against in (("demand", list(demand_acc.values()), "offers"),
                                              ("offer", list(offer_acc.values()), "demands")):
                picks = rng.sample(accessions, 21)
                started = time.perf_counter()
                bank.market.match(ADMIN, picks[0], top=10)
                cold = time.perf_counter() - started
                warm = []
                for acc in picks[1:]:
                    started = time.perf_counter()
                    bank.market.match(ADMIN, acc, top=10)
                    warm.append(time.perf_counter() - started)
                print(f"one {kind} against {entries:,} {against}: first {cold:.2f} s (cold), "
                      f"then median {statistics.median(warm) * 1000:.0f} ms, max "
                      f"{max(warm) * 1000:.0f} ms (warm, 20 {kind}s)")
        finally:
            bank.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000,
                        help="offers (and demands) for the latency figure")
    parser.add_argument("--skip-latency", action="store_true")
    args: Any = parser.parse_args(argv)
    quality()
    if not args.skip_latency:
        latency(args.entries)


if __name__ == "__main__":
    main()
