"""How well the two learnt guessers do on messages they did not learn from: k-fold validation
over the labelled messages they learn from (request examples and the intents' examples; the
emergency examples against all the others), counting only the messages no phrase reads, which
are the ones the guess decides. Prints, per threshold, the positives caught and the false ones.

This is how the learnt models' settings (balanced or not, how many orders averaged) and their
thresholds in understanding.yaml and matching.yaml were chosen; it asserts nothing.

    .venv/bin/python benchmarks/learnt_cv.py [--folds 5] [--orders 3] [--balanced-alarm]
"""

from __future__ import annotations

import argparse
import zlib
from collections.abc import Callable
from pathlib import Path

from bot.cache import build_engine
from bot.engine.core import served_examples
from bot.understanding.guess import EPOCHS, NONE, KindGuesser, frame_features
from bot.understanding.patterns import compact
from bot.understanding.reader import ALARM_EPOCHS, TrainingRow

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def validate(rows: list[TrainingRow], decided: Callable[[str], bool],
             train: Callable[[list[TrainingRow]], KindGuesser], folds: int,
             ) -> dict[float, tuple[int, int, int, int]]:
    """Threshold → (positives caught, positives, negatives guessed positive, negatives) over
    the held-out folds, for the rows `decided` says the guess decides."""
    counts = {t: [0, 0, 0, 0] for t in THRESHOLDS}
    for k in range(folds):
        def held(text: str, k: int = k) -> bool:
            return zlib.crc32(compact(text).encode()) % folds == k
        model = train([r for r in rows if not held(r[0])])
        for text, kind, _ in rows:
            if not held(text) or not decided(text):
                continue
            p = model.guess(text).probability
            for t, c in counts.items():
                base = 0 if kind != NONE else 2
                c[base + 1] += 1
                c[base] += p >= t
    return {t: (c[0], c[1], c[2], c[3]) for t, c in counts.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--orders", type=int, default=3)
    ap.add_argument("--balanced-alarm", action="store_true")
    args = ap.parse_args()
    engine = build_engine(ROOT)
    kb, reader = engine.kb, engine.reader
    guess = kb.understanding.guess
    # exactly what Reader._train learns from
    asks, alarms = reader.training_messages(kb.request_examples, served_examples(kb),
                                            kb.emergency_examples)
    requests = validate(
        asks, reader.serves,
        lambda rows: KindGuesser([(frame_features(t), k, top) for t, k, top in rows],
                                 guess.min_topics, EPOCHS, orders=args.orders), args.folds)
    emergencies = validate(
        alarms, lambda text: not reader.phrased_emergency(text),
        lambda rows: KindGuesser([(frame_features(t), k, i) for t, k, i in rows],
                                 guess.emergency_min_messages, ALARM_EPOCHS,
                                 balanced=args.balanced_alarm, orders=args.orders), args.folds)
    for name, table, what in (("requests no answer serves", requests, "declines"),
                              ("emergencies", emergencies, "emergencies")):
        print(f"{name} ({args.folds}-fold, {args.orders} orders):")
        for t, (caught, positives, false, negatives) in table.items():
            print(f"  from {t:<4}: {what} caught {caught}/{positives}, "
                  f"false {false}/{negatives}")


if __name__ == "__main__":
    main()
