"""YAML files → a validated, immutable KnowledgeBase.

Every failure becomes a Problem with file, line and a fix; nothing here lets a raw
traceback reach an admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .base import KnowledgeBase, Location
from .errors import (
    ContentError,
    KnowledgeBaseError,
    Problem,
    SchemaError,
    YAMLSyntaxError,
    relative,
)
from .records import LangRecord, Record
from .schema import FILE_MODELS, AnswersFile, IntentsFile, LangText
from .yaml_lines import DuplicateKey, line_of, load_yaml

_FIXES = {
    "missing": "add the field `{field}`",
    "extra_forbidden": "remove `{field}` or check its spelling",
    "string_type": "write text here; quote values YAML reads as numbers or dates, e.g. \"12345\"",
    "string_too_short": "write some text here",
    "string_pattern_mismatch": "use the expected form (ids look like area.topic, lower case)",
    "list_type": "make this a list (lines starting with '- ')",
    "dict_type": "make this a mapping (key: value lines)",
    "too_short": "add at least one entry",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_type": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "literal_error": "use one of the allowed values",
}


def _schema_problems(err: ValidationError, data: Any, name: str) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        fix = _FIXES.get(e["type"], "").format(field=loc[-1] if loc else field)
        problems.append(Problem(name, line_of(data, loc), f"{field}: {e['msg']}", fix))
    return problems


def _plain(value: Any) -> Any:
    """Validated models as records (see records.py): the knowledge base holds no pydantic."""
    if isinstance(value, BaseModel):
        kind = LangRecord if isinstance(value, LangText) else Record
        return kind(type(value).__name__, {k: _plain(v) for k, v in value.__dict__.items()})
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read_file(path: Path, model: type[BaseModel], root: Path) -> tuple[Any, BaseModel]:
    """Parse and validate one file; raise a KnowledgeBaseError naming file and line."""
    name = relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError([Problem(name, None, "file is missing", "restore it from git")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(name, None, f"cannot read: {exc}", "save it as UTF-8")
        raise SchemaError([problem]) from None
    try:
        data = load_yaml(text)
    except DuplicateKey as exc:
        raise YAMLSyntaxError(
            [Problem(name, exc.line, str(exc), "keep one of the two, or rename one")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        fix = ("write a real date as YYYY-MM-DD, or quote the value" if "cannot read" in what
               else "write a plain word as the key" if "cannot be a key" in what
               else "check indentation and quotes; a ':' inside text needs quotes")
        raise YAMLSyntaxError([Problem(name, line, f"not valid YAML: {what}", fix)]) from None
    try:
        return data, model.model_validate(data)
    except ValidationError as exc:
        raise SchemaError(_schema_problems(exc, data, name)) from None


def _load_area_files(
    folder: Path, model: type[IntentsFile] | type[AnswersFile], key: str, root: Path,
    where: dict[str, Location], failures: list[KnowledgeBaseError],
) -> dict[str, Any]:
    items: dict[str, Any] = {}
    kind = "intent" if key == "intents" else "answer"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        failures.append(SchemaError([Problem(relative(folder, root), None, "no .yaml files",
                                             "add area files")]))
    for path in files:
        try:
            data, parsed = read_file(path, model, root)
        except KnowledgeBaseError as exc:
            failures.append(exc)
            continue
        name = relative(path, root)
        for i, item in enumerate(getattr(parsed, key)):
            line = line_of(data, (key, i))
            if item.id in items:
                first = where[f"{kind}:{item.id}"]
                failures.append(SchemaError([Problem(
                    name, line, f"{kind} {item.id} is defined twice "
                    f"(also {first.file}:{first.line})", "keep one")]))
                continue
            items[item.id] = _plain(item)
            where[f"{kind}:{item.id}"] = Location(name, line)
            for field in type(item).model_fields:  # so a problem points at its own field
                field_line = line_of(data, (key, i, field))
                if field_line != line:
                    where[f"{kind}:{item.id}.{field}"] = Location(name, field_line)
            if kind == "intent":
                for lang in ("zh", "en"):
                    for j, _ in enumerate(getattr(item.examples, lang)):
                        where[f"example:{item.id}:{lang}:{j}"] = Location(
                            name, line_of(data, (key, i, "examples", lang, j)))
    return items


def _locate_phrases(data: Any, name: str, where: dict[str, Location],
                    kind: str = "phrase") -> None:
    """Remember the line of every phrase list item, so a phrase problem points at its line
    (`kind`: "setting" for matching.yaml's lists, small_talk_order and the stop words)."""
    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    where[f"{kind}:{'.'.join(map(str, path))}:{i}"] = Location(
                        name, line_of(data, (*path, i)))
                else:
                    walk(item, (*path, i))
    walk(data, ())


def load_knowledge_base(root: Path, *, check: bool = True) -> KnowledgeBase:
    """Load and check everything under `root` (the folder holding intents/ and content/).

    Raises a KnowledgeBaseError subclass listing every problem found, not just the first,
    so one validate run shows the admin all there is to fix.
    """
    root = Path(root)
    content = root / "content"
    failures: list[KnowledgeBaseError] = []
    where: dict[str, Location] = {}
    single: dict[str, Any] = {}
    for kind in ("links", "facts", "topics", "messages", "matching", "understanding",
                 "request_examples", "emergency_examples", "languages"):
        try:
            data, parsed = read_file(content / f"{kind}.yaml", FILE_MODELS[kind], root)
        except KnowledgeBaseError as exc:
            failures.append(exc)
            continue
        single[kind] = _plain(parsed)
        if kind == "understanding":
            _locate_phrases(data, f"content/{kind}.yaml", where)
        if kind == "matching":
            _locate_phrases(data, f"content/{kind}.yaml", where, "setting")
        if kind in ("request_examples", "emergency_examples"):
            for i, _ in enumerate(parsed.examples):  # type: ignore[attr-defined]
                where[f"{kind[:-1]}:{i}"] = Location(f"content/{kind}.yaml",
                                                     line_of(data, ("examples", i)))
    intents = _load_area_files(root / "intents", IntentsFile, "intents", root, where, failures)
    answers = _load_area_files(
        content / "answers", AnswersFile, "answers", root, where, failures
    )
    plan_path = content / "plan.zh.txt"
    try:
        plan = plan_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        failures.append(SchemaError([Problem(
            relative(plan_path, root), None, f"cannot read the plan: {exc}",
            "restore content/plan.zh.txt from git")]))
        plan = ""
    if failures:
        # Report every problem at once; the class says the worst kind: not even YAML.
        syntax = any(isinstance(f, YAMLSyntaxError) for f in failures)
        problems = [p for f in failures for p in f.problems]
        raise (YAMLSyntaxError if syntax else SchemaError)(problems)
    kb = KnowledgeBase(
        root=root,
        intents=intents,
        answers=answers,
        links=single["links"].links,
        hotline=single["links"].hotline,
        facts={f.id: f for f in single["facts"].facts},
        areas=single["topics"].areas,
        topics={t.id: t for t in single["topics"].topics},
        messages=single["messages"].messages,
        matching=single["matching"],
        understanding=single["understanding"],
        # plain tuples: thousands of them, and a cached engine unpickles a tuple fastest
        request_examples=[(e.q, e.kind, e.topic) for e in single["request_examples"].examples],
        emergency_examples=[(e.q, e.kind, e.topic)
                            for e in single["emergency_examples"].examples],
        emergency_numbers={n.number: n for n in single["facts"].emergency_numbers},
        languages=single["languages"].languages,
        default_language=single["languages"].default,
        other_language=single["languages"].others,
        plan=plan,
        where=where,
    )
    if check:
        from .checks import run_checks

        errors = [p for p in run_checks(kb) if p.severity == "error"]
        if errors:
            raise ContentError(errors)
    return kb
