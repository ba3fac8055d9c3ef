"""Our engine beside three textbook matchers, on the shipped KB and the same questions.

Questions: the answerable items (`reply: answer`) of tests/data/eval/dev.yaml and test.yaml;
right = the top-1 intent is the expected topic (or of the expected area, as `policybot eval`
counts). Every matcher picks the intent of its nearest example among all examples of the KB;
every one gets the text after the engine's own normalisation (NFKC, case, 繁體 → 简体):
  * TF-IDF over character 1–3-grams, cosine (scikit-learn TfidfVectorizer, sublinear tf);
  * BM25 (Okapi, rank_bm25 defaults) over jieba tokens (English: lower-case words);
  * rapidfuzz WRatio (process.extractOne);
  * our engine: its top-ranked intent whatever the thresholds ("top-1"), and its reply
    ("answered right": an answer with the expected topic; a clarify or a decline is not),
    plus the first line of `policybot eval` on the whole file (declines and all).
Time per question: wall, one question at a time, after one warm-up pass.

Prints a Markdown table; asserts nothing. Run: python benchmarks/compare_baselines.py
"""

from __future__ import annotations

import logging
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import EVAL, ROOT, machine, pick

from bot import evaluation
from bot.engine import Engine
from bot.evaluation import load_labelled
from bot.knowledge import load_knowledge_base
from bot.matching.normalize import normalize


def right(expect: str | None, got: str | None) -> bool:
    return expect is not None and got is not None and (got == expect
                                                       or got.startswith(expect + "."))


class TfIdf:
    name = "TF-IDF char 1–3-grams, cosine"

    def __init__(self, texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        self.matrix = self.vec.fit_transform(texts)  # rows are L2-normalised: dot = cosine

    def best(self, text: str) -> int:
        return int((self.matrix @ self.vec.transform([text]).T).toarray().argmax())


class BM25:
    name = "BM25 (Okapi) over jieba tokens"
    _keep = re.compile(r"\w")

    def __init__(self, texts: list[str]) -> None:
        import jieba
        from rank_bm25 import BM25Okapi

        jieba.setLogLevel(logging.WARNING)
        self._cut = jieba.lcut
        self.bm25 = BM25Okapi([self.tokens(t) for t in texts])

    def tokens(self, text: str) -> list[str]:
        return [w for w in self._cut(text) if self._keep.search(w)] or ["∅"]

    def best(self, text: str) -> int:
        return int(self.bm25.get_scores(self.tokens(text)).argmax())


class WRatio:
    name = "rapidfuzz WRatio, nearest example"

    def __init__(self, texts: list[str]) -> None:
        from rapidfuzz import fuzz, process

        self.texts, self._one, self._scorer = texts, process.extractOne, fuzz.WRatio

    def best(self, text: str) -> int:
        return self._one(text, self.texts, scorer=self._scorer)[2]


def timed(fn, questions: list[str]) -> tuple[list, list[tuple[float, float]]]:
    """Results, and (wall, CPU) seconds of each call."""
    for q in questions:  # warm-up
        fn(q)
    out, times = [], []
    for q in questions:
        c, t = time.thread_time(), time.perf_counter()
        out.append(fn(q))
        times.append((time.perf_counter() - t, time.thread_time() - c))
    return out, times


def eval_line(name: str) -> str:
    policybot = Path(sys.executable).with_name("policybot")
    out = subprocess.run([str(policybot), "eval", str(EVAL / f"{name}.yaml")],
                         cwd=ROOT, capture_output=True, text=True).stdout
    return out.strip().splitlines()[0] if out.strip() else "(no output)"


def main() -> None:
    kb = load_knowledge_base(ROOT)
    rows = [(i.id, t) for i in kb.intents.values() for lang in ("zh", "en")
            for t in getattr(i.examples, lang)]
    labels = [iid for iid, _ in rows]
    texts = [normalize(t) for _, t in rows]
    sets = {name: [x for x in load_labelled(EVAL / f"{name}.yaml") if x.want == "answer"]
            for name in ("dev", "test")}

    import jieba  # imports and jieba's dictionary before the clock: build times are builds
    import rank_bm25  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    t = time.perf_counter()
    engine = Engine(kb)
    built = {"our engine": time.perf_counter() - t}
    matchers = []
    for cls in (TfIdf, BM25, WRatio):
        t = time.perf_counter()
        matchers.append(cls(texts))
        built[cls.name] = time.perf_counter() - t

    table: list[tuple[str, dict, list[float], float]] = []
    for m in matchers:
        acc, times = {}, []
        for name, items in sets.items():
            got, ts = timed(lambda q, m=m: labels[m.best(normalize(q))], [x.q for x in items])
            hits = sum(right(x.expect, g) for x, g in zip(items, got, strict=True))
            acc[name] = hits / len(items)
            times += ts
        table.append((m.name, acc, times, built[m.name]))

    top, answered, times = {}, {}, []
    for name, items in sets.items():
        got, ts = timed(lambda q: engine.read(q).top.intent, [x.q for x in items])
        top[name] = sum(right(x.expect, g) for x, g in zip(items, got, strict=True)) / len(items)
        replies, ts2 = timed(engine.reply, [x.q for x in items])
        answered[name] = sum(r.kind == "answer" and right(x.expect, r.intent)
                             for x, r in zip(items, replies, strict=True)) / len(items)
        times += ts2
    table.append(("our engine, top-1 ranked intent", top, times, built["our engine"]))
    table.append(("our engine, reply (answer with that topic)", answered, times,
                  built["our engine"]))

    n = {k: len(v) for k, v in sets.items()}
    print(f"machine: {machine()}")
    print(f"shipped KB: {len(kb.intents)} intents, {len(rows):,} examples; answerable "
          f"questions: dev {n['dev']}, test {n['test']}\n")
    print("| matcher | dev top-1 | test top-1 | ms/question wall p50 | wall p99 | CPU p50 "
          "| CPU p99 | CPU mean | build s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, acc, ts, b in table:
        wall, cpu = [w for w, _ in ts], [c for _, c in ts]
        print(f"| {name} | {acc['dev'] * 100:.1f}% | {acc['test'] * 100:.1f}% | "
              f"{pick(wall, .5) * 1e3:.2f} | {pick(wall, .99) * 1e3:.2f} | "
              f"{pick(cpu, .5) * 1e3:.2f} | {pick(cpu, .99) * 1e3:.2f} | "
              f"{statistics.fmean(cpu) * 1e3:.2f} | {b:.2f} |")
    print("\n(our engine's time is engine.reply: ranking, understanding and composing the reply)")
    print("\nour engine's full replies, `policybot eval` (every question of the file, declines "
          "and emergencies included; right = the wanted reply):")
    for name in sets:
        allq = evaluation.rates(evaluation.run(engine, load_labelled(EVAL / f"{name}.yaml")))
        print(f"  {name}.yaml: right {allq['right']:.1f}% of all; {eval_line(name)}")


if __name__ == "__main__":
    main()
