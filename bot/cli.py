"""The `policybot` command line: the same engine as Telegram, from a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from .config import Settings, default_cache_dir, default_kb_root
from .errors import LabelledDataError, StorageError
from .knowledge import KnowledgeBase, KnowledgeBaseError

_SURROGATE = re.compile("[\ud800-\udfff]")  # what Python makes of argv bytes that are not UTF-8


def _print_problems(exc: KnowledgeBaseError) -> None:
    print(f"The knowledge base has {len(exc.problems)} problem(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _engine(root: Path | None):
    """The engine, from the cache when it is up to date (see bot/cache.py)."""
    from .cache import load_engine

    return load_engine(root or default_kb_root(), default_cache_dir())


def _questions(arg: str) -> Iterator[str | None]:
    """The question(s) to ask: argv, or stdin lines ('-'); None for one that is not valid
    UTF-8 (so it gets an error of its own and the next line is still read)."""
    if arg != "-":
        yield None if _SURROGATE.search(arg) else arg
        return
    for raw in sys.stdin.buffer:
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield None


def cmd_ask(args: argparse.Namespace) -> int:
    import time

    from .console import render_plain
    from .engine import Conversation

    engine = _engine(args.kb)
    _check_lang(engine, args.lang)
    if args.conversation and args.question != "-":
        print("--conversation reads the messages from stdin: use `ask --conversation -`",
              file=sys.stderr)
        return 2
    conversation = Conversation()
    failed = False
    for question in _questions(args.question):
        if question is None:
            failed = True
            error = {"question": None, "error": "not valid UTF-8: the line was skipped"}
            print(json.dumps(error) if args.json else f"error: {error['error']}", flush=True)
            continue
        if args.conversation:
            if not question.strip():
                conversation = Conversation()  # a blank line starts a new conversation
                continue
            reply, conversation = engine.converse(question, conversation, time.time(), args.lang)
        else:
            reply = engine.reply(question, args.lang)
        if args.json:
            print(json.dumps(reply.to_json(question), ensure_ascii=False), flush=True)
        else:
            print(render_plain(reply), flush=True)
    return 1 if failed else 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .console import ConsoleChat

    engine = _engine(args.kb)
    _check_lang(engine, args.lang)
    ConsoleChat(engine, args.lang).loop()
    return 0


def _check_lang(engine, lang: str | None) -> None:
    """--lang names one of the display languages of content/languages.yaml."""
    if lang is not None and not engine.displays.known(lang):
        raise UsageError(f"--lang must be one of {', '.join(engine.displays.codes)}")


def _has_terminal() -> bool:
    """Whether there is someone to chat with: a terminal, or input piped in; not /dev/null or
    a closed stdin, which is what a Procfile worker without its token has."""
    if sys.stdin is None or sys.stdin.closed:
        return False
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return sys.stdin.isatty() or stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.kb is not None:
        settings = dataclasses.replace(settings, kb_root=args.kb)
    if not settings.token:
        if not _has_terminal():
            print("TELEGRAM_BOT_TOKEN is not set, and there is no terminal for the console "
                  "chat: set the token (from @BotFather) to run the Telegram bot.",
                  file=sys.stderr)
            return 2
        from .console import ConsoleChat

        print("No TELEGRAM_BOT_TOKEN set: starting the local console chat.\n", file=sys.stderr)
        ConsoleChat(_engine(args.kb)).loop()
        return 0
    from .telegram_ui.application import run

    return run(settings)


def cmd_validate(args: argparse.Namespace) -> int:
    from .knowledge.checks import run_checks
    from .knowledge.loader import load_knowledge_base
    from .matching.index import Matcher
    from .validation import misrouted_examples, near_duplicate_examples, text_problems

    root = Path(args.dir) if args.dir else args.kb or default_kb_root()
    kb = load_knowledge_base(root, check=False)
    problems = run_checks(kb) + text_problems(kb)
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        matcher = Matcher(kb)
        problems += near_duplicate_examples(kb, matcher) + misrouted_examples(kb, matcher)
    for problem in problems:
        print(problem)
    warnings = len(problems) - len(errors)
    print(f"{len(kb.intents)} intents, {len(kb.topics)} topics: "
          f"{len(errors)} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _export_intent(kb: KnowledgeBase, intent_id: str) -> dict:
    intent, answer = kb.intents[intent_id], kb.answers[intent_id]
    return {
        "id": intent_id,
        "examples": {"zh": list(intent.examples.zh), "en": list(intent.examples.en)},
        "keywords": list(intent.keywords),
        "answer": {"zh": answer.answer.zh, "en": answer.answer.en},
        "plan": answer.plan,
        "links": [{"key": k, "url": kb.links[k].url, "zh": kb.links[k].zh, "en": kb.links[k].en}
                  for k in answer.links],
        "follow_ups": list(answer.follow_ups),
        "reviewed": answer.reviewed.isoformat(),
    }


def _export(kb: KnowledgeBase) -> dict:
    return {"intents": [_export_intent(kb, iid) for iid in kb.intents]}


def cmd_export(args: argparse.Namespace) -> int:
    from .validation import load_valid_knowledge_base

    kb = load_valid_knowledge_base(args.kb or default_kb_root())
    json.dump(_export(kb), sys.stdout, ensure_ascii=False, indent=None if args.compact else 2)
    print()
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .knowledge.schema import FILE_MODELS

    if args.kind:
        print(json.dumps(FILE_MODELS[args.kind].model_json_schema(), ensure_ascii=False, indent=2))
    else:
        globs = {"intents": "intents/*.yaml", "answers": "content/answers/*.yaml"}
        print(json.dumps({globs.get(k, f"content/{k}.yaml"): m.model_json_schema()
                          for k, m in FILE_MODELS.items()}, ensure_ascii=False, indent=2))
    return 0


def _rates_line(r: dict) -> str:
    parts = [f"right {r['right']:5}%"]
    if r["n_answer"]:
        parts.append(f"answered right {r['accuracy']:5}% (clarify {r['clarify']:5}%)")
    parts.append(f"wrong {r['wrong']:5}%")
    if r["n_decline"]:
        parts.append(f"declined {r['declined']:5}% (naming the topic {r['topic_aware']:5}%)")
    if r["n_emergency"]:
        parts.append(f"emergency number {r['emergency']:5}%")
    return "  ".join(parts)


def _print_report(rep: dict, failures: bool) -> None:
    o = rep["overall"]
    print(f"questions {o['questions']}: answer accuracy {o['accuracy']}%, clarify {o['clarify']}%, "
          f"wrong answers {o['wrong']}%, declined {o['declined']}% (naming the topic "
          f"{o['topic_aware']}%), emergency number {o['emergency']}%")
    if rep.get("follow_ups"):
        print(f"follow-up turns (after the first): {_rates_line(rep['follow_ups'])}")
    for title, key in (("by language", "by_language"), ("by area", "by_area"),
                       ("by category", "by_category")):
        print(f"\n{title}:")
        for name, r in rep[key].items():
            print(f"  {name:20} n={r['questions']:4}  {_rates_line(r)}")
    if rep["confused"]:
        print("\nconfused (expected → answered):")
        for c in rep["confused"]:
            print(f"  {c['count']:3} × {c['expected']} → {c['answered']}")
    if failures:
        print("\nmisses:")
        for f in rep["failures"]:
            got = f"{f['kind']}:{f['intent'] or f['request'] or '-'}"
            print(f"  [{got:38} {f['score']:5}] want {f['want']:9} {f['expect']:26} "
                  f"{f['cat']:20} {f['q']}")


def cmd_eval(args: argparse.Namespace) -> int:
    from . import evaluation

    engine = _engine(args.kb)
    items, dialogues = evaluation.load_set(Path(args.file))
    conversations = bool(dialogues)
    if conversations:
        if args.diff or args.sweep:
            print("--diff and --sweep take labelled questions, not conversations",
                  file=sys.stderr)
            return 2
        outcomes = evaluation.run_conversations(engine, dialogues)
    else:
        if args.diff:
            changes = evaluation.diff(_engine(Path(args.diff)), engine, items)
            for c in changes:
                print(f"{c['verdict']:8} {c['q']}\n         expect {c['expect']}: "
                      f"{c['before']} → {c['after']}")
            better = sum(c["verdict"] == "better" for c in changes)
            worse = sum(c["verdict"] == "worse" for c in changes)
            print(f"{len(changes)} question(s) change: {better} better, {worse} worse")
            return 1 if worse else 0
        if args.sweep:
            rows = evaluation.sweep(engine, items, answers=[20, 25, 30, 35, 40, 45, 50, 55, 60],
                                    margins=[0, 4, 8, 12])
            print("answer_threshold margin  right accuracy clarify wrong declined")
            for r in rows:
                print(f"{r['answer_threshold']:16} {r['margin']:6}  {r['right']:5} "
                      f"{r['accuracy']:8} {r['clarify']:7} {r['wrong']:5} {r['declined']:8}")
            for name, values in evaluation.LEARNT_SETTINGS.items():
                print(f"\n{name}  right accuracy clarify wrong declined")
                for r in evaluation.sweep_setting(engine, items, name, values):
                    print(f"{r[name]:{len(name)}}  {r['right']:5} {r['accuracy']:8} "
                          f"{r['clarify']:7} {r['wrong']:5} {r['declined']:8}")
            return 0
        outcomes = evaluation.run(engine, items)
    rep = evaluation.report(outcomes, conversations)
    if args.json:
        print(json.dumps(rep, ensure_ascii=False, indent=2))
    else:
        _print_report(rep, args.failures)
    return 0


def _with_storage(action):
    """Run an async report against the database of DATABASE_URL (or DATABASE_PATH)."""
    import asyncio

    from .storage import open_storage

    settings = Settings.from_env()

    async def go():
        storage = await open_storage(settings.database_url, secret=settings.hash_secret,
                                     create=False)
        try:
            return await action(storage)
        finally:
            await storage.close()

    return asyncio.run(go())


def cmd_stats(args: argparse.Namespace) -> int:
    from . import reports

    engine = _engine(args.kb)

    async def periods(storage):
        return [await storage.stats(d) for d in ([args.days] if args.days else [1, 7, 30])]

    print(reports.stats_text(engine, _with_storage(periods), args.lang))
    return 0


def cmd_unanswered(args: argparse.Namespace) -> int:
    from . import reports

    rows = _with_storage(lambda s: s.unanswered(args.days))
    if args.csv:
        sys.stdout.buffer.write(reports.unanswered_csv(rows))
        return 0
    print(reports.unanswered_text(_engine(args.kb), rows, args.days, args.lang))
    return 0


def cmd_stale(args: argparse.Namespace) -> int:
    from . import reports

    engine = _engine(args.kb)
    days = args.days if args.days is not None else Settings.from_env().stale_days
    print(reports.stale_text(engine, days, args.lang))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policybot", description=__doc__)
    parser.add_argument("--kb", type=Path, default=None,
                        help="folder holding intents/ and content/ (default: this checkout)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ask", help="print the reply to a question ('-' reads stdin lines)")
    p.add_argument("--lang", help="display language (zh, zh-hant, en)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--conversation", action="store_true",
                   help="stdin lines are one conversation, read in context; a blank line starts "
                   "a new one")
    p.add_argument("question")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive console chat on the same engine")
    p.add_argument("--lang", help="display language (zh, zh-hant, en)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="run the Telegram bot (console chat without a token)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check the knowledge base; exit 1 on errors")
    p.add_argument("dir", nargs="?")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="the whole knowledge base as JSON")
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.add_argument("--compact", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("schema", help="JSON Schema of the YAML files, for editors")
    p.add_argument("kind", nargs="?", choices=["intents", "answers", "links", "facts", "topics",
                                              "messages", "matching"])
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("eval", help="accuracy on a labelled set of questions")
    p.add_argument("file")
    p.add_argument("--sweep", action="store_true", help="figures across thresholds")
    p.add_argument("--json", action="store_true")
    p.add_argument("--failures", action="store_true", help="list every miss")
    p.add_argument("--diff", metavar="OLD_DIR",
                   help="list the questions whose reply changes from the KB in OLD_DIR to this one")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("stats", help="usage statistics from the database (DATABASE_URL)")
    p.add_argument("--days", type=int, help="one period instead of 1, 7 and 30 days")
    p.add_argument("--lang", default="en", help="display language (zh, zh-hant, en)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("unanswered", help="questions without an answer, grouped by similarity")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--csv", action="store_true", help="every question as CSV, not grouped")
    p.add_argument("--lang", default="en", help="display language (zh, zh-hant, en)")
    p.set_defaults(func=cmd_unanswered)

    p = sub.add_parser("stale", help="answers whose reviewed date is too old (STALE_DAYS)")
    p.add_argument("--days", type=int)
    p.add_argument("--lang", default="en", help="display language (zh, zh-hant, en)")
    p.set_defaults(func=cmd_stale)
    return parser


class UsageError(Exception):
    """A command line that cannot be carried out as given."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KnowledgeBaseError as exc:
        _print_problems(exc)
        return 1
    except (LabelledDataError, StorageError, UsageError) as exc:
        print(f"policybot {args.command}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except BrokenPipeError:
        return 0
