"""The project configuration: ``[tool.preflight]`` in pyproject.toml, or a ``.preflight.toml``.

Found upward from the working directory (in each directory ``.preflight.toml`` first, then a
``pyproject.toml`` that has the section), or named with ``--config``; ``--isolated`` ignores it.
Every key and value is checked here, so a typo is a usage error naming the key, never a setting
silently ignored. Globs of files are relative to the configuration file's directory.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
from typing import NamedTuple

from preflight.findings import Severity
from preflight.limits import MAX_BYTES, MAX_DEPTH, LoadError, deeper_than, read_bytes
from preflight.values import linear_pattern

PYPROJECT, DOTFILE = "pyproject.toml", ".preflight.toml"
SEVERITIES = ("error", "warning", "info")


class ConfigError(Exception):
    """A configuration that cannot be used: a usage error (exit 2) naming the file and key."""


DEFAULT_PLAN_MAX_AGE = "24h"  # how old a plan file apply still takes (plan-max-age, --max-age)
_DURATION = r"(\d+)([smhd]?)"
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> datetime.timedelta:
    """``90m``, ``24h``, ``7d`` or whole seconds as a duration; ValueError for anything else."""
    found = re.fullmatch(_DURATION, str(text).strip())
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 90m, 24h or 7d")
    return datetime.timedelta(seconds=int(found.group(1)) * _SECONDS[found.group(2)])


class SuppressionEntry(NamedTuple):
    """One ``[[suppress]]`` entry: findings of ``rule`` in files matching ``file`` at pointers
    matching ``pointer`` are kept aside, with the reason, until ``expires``."""

    index: int
    rule: str
    file: str
    pointer: str
    reason: str
    expires: datetime.date | None = None

    def matches(self, rule: "RuleRef", path: str, pointer: str, config: "Config") -> bool:
        return (rule.selected_by(self.rule) and config.matches_file(self.file, path)
                and fnmatch.fnmatchcase(pointer, self.pointer))


class RuleRef(NamedTuple):
    """What a selector can match: a rule's id and name."""

    id: str
    name: str = ""

    def selected_by(self, selector: str) -> bool:
        """ruff's spelling: the full id, an id prefix (``PF3``, ``PF12``), ``ALL``, or the name."""
        return selector == "ALL" or self.id.startswith(selector) or selector == self.name


class Config:
    """The settings; a plain class (not a dataclass) because a run without a configuration file
    creates only the defaults and should not pay for more at import."""

    def __init__(self, path: str | None = None, section: tuple[str, ...] = ()):
        self.path = path  # None: no configuration file
        self.section = section  # where the settings live in the file: ("tool", "preflight") or ()
        self.select: list[str] = []
        self.ignore: list[str] = []
        self.severity: dict[str, str] = {}
        self.per_file_ignores: dict[str, list[str]] = {}
        self.fail_on: str | None = None
        self.operations: dict[str, str] = {}
        self.exclude: list[str] = []  # globs of files a folder argument leaves out
        self.placeholder_patterns: list[str] = []
        self.region: str | None = None
        self.organization: str | None = None  # the id of the caller's organisation (o-...)
        self.plan_max_age: str = DEFAULT_PLAN_MAX_AGE
        self.suppress: list[SuppressionEntry] = []
        self.guardrails: list[dict] = []  # compiled by preflight.guardrails
        self.given: set[str] = set()  # the keys the file set

    @property
    def root(self) -> str:
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()

    def relative(self, path: str) -> str:
        """A checked file's path relative to the configuration's directory, with ``/``."""
        if path == "-":
            return path
        relative = os.path.relpath(os.path.abspath(path), self.root)
        return relative.replace(os.sep, "/")

    def matches_file(self, pattern: str, path: str) -> bool:
        """Glob ``pattern`` against a checked file; a pattern without ``/`` also matches the base name."""
        relative = self.relative(path)
        return (fnmatch.fnmatchcase(relative, pattern)
                or ("/" not in pattern and fnmatch.fnmatchcase(relative.rpartition("/")[2], pattern)))

    def selected(self, rule: RuleRef) -> bool:
        """Whether ``select`` and ``ignore`` leave the rule on (before per-file ignores)."""
        return (not self.select or any(rule.selected_by(s) for s in self.select)) \
            and not any(rule.selected_by(s) for s in self.ignore)

    def enabled(self, rule: RuleRef, path: str) -> bool:
        ignored = [s for pattern, selectors in self.per_file_ignores.items() if self.matches_file(pattern, path)
                   for s in selectors]
        return self.selected(rule) and not any(rule.selected_by(s) for s in ignored)

    def severity_of(self, rule: RuleRef) -> Severity | None:
        """The ``severity`` override of the most specific selector that matches the rule (a full id
        or name, else the longest prefix), or None."""
        matching = [s for s in self.severity if rule.selected_by(s)]
        if not matching:
            return None
        best = max(matching, key=lambda s: 10_000 if s in (rule.id, rule.name) else len(s))
        return Severity.parse(self.severity[best])

    def operation_for(self, path: str) -> str | None:
        for pattern, operation in self.operations.items():
            if self.matches_file(pattern, path):
                return operation
        return None

    def describe(self) -> str:
        """The effective settings, each with where it came from, as TOML a user could paste."""
        origin = f"# from {self.path}" if self.path else "# default"
        default = "# default"
        lines = [f"# configuration: {self.path or 'none found (defaults)'}"]

        def put(key: str, value, attribute: str | None = None) -> None:
            text = _toml(value)
            lines.append(f"{key} = {text}  {origin if (attribute or key) in self.given else default}")

        put("select", self.select or ["ALL"])
        put("ignore", self.ignore)
        put("fail-on", self.fail_on or "error")
        put("region", self.region or "")
        put("organization", self.organization or "")
        put("placeholder-patterns", self.placeholder_patterns)
        put("exclude", self.exclude)
        put("plan-max-age", self.plan_max_age)
        for table, values in (("severity", self.severity), ("per-file-ignores", self.per_file_ignores),
                              ("operations", self.operations)):
            lines.append(f"\n[{table}]  {origin if table in self.given else default}")
            lines.extend(f"{_toml(key)} = {_toml(value)}" for key, value in values.items())
        for entry in self.suppress:
            lines.append(f"\n[[suppress]]  {origin}")
            lines.extend(f"{key} = {_toml(value)}" for key, value in (
                ("rule", entry.rule), ("file", entry.file), ("pointer", entry.pointer),
                ("reason", entry.reason)) + ((("expires", entry.expires),) if entry.expires else ()))
        for guardrail in self.guardrails:
            lines.append(f"\n[[guardrail]]  {origin}")
            lines.extend(f"{key} = {_toml(value)}" for key, value in guardrail.items())
        return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)  # its escapes are TOML's basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).lower() if isinstance(value, bool) else str(value)


def find(start: str | None = None) -> str | None:
    """The nearest configuration file at or above ``start`` (the working directory)."""
    directory = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(directory, DOTFILE)
        if os.path.isfile(candidate):
            return candidate
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _has_section(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _has_section(path: str) -> bool:
    """A cheap look before parsing: most pyproject.toml files have no preflight section, and a run
    without configuration should not pay for tomllib."""
    try:
        with open(path, "rb") as handle:
            return re.search(rb"^\s*\[\[?\s*tool\.preflight\b", handle.read(), re.M) is not None
    except OSError:
        return False


def load(path: str | None = None, isolated: bool = False, max_bytes: int = MAX_BYTES) -> Config:
    """The configuration to use: the named file, else the nearest one, else the defaults. It is
    read within the input limits (``--max-bytes``, 64 levels of nesting) like every other file."""
    if isolated:
        return Config()
    if path is None:
        path = find()
        if path is None:
            return Config()
    elif not os.path.exists(path):
        raise ConfigError(f"{path}: no such configuration file")
    import tomllib

    try:
        data = tomllib.loads(read_bytes(path, max_bytes).decode("utf-8"))
    except LoadError as err:
        raise ConfigError(str(err)) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    if deeper_than(data):
        raise ConfigError(f"{path}: nested more than {MAX_DEPTH} levels deep, more than any configuration; "
                          "not read further")
    tool = data.get("tool")
    if os.path.basename(path) == PYPROJECT or isinstance(tool, dict) and "preflight" in tool:
        section, settings = ("tool", "preflight"), tool.get("preflight", {}) if isinstance(tool, dict) else {}
    else:
        section, settings = (), data
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: [{'.'.join(section)}]: expected a table")
    return parse(settings, path, section)


class _Reader:
    """Typed access to one table, naming ``file: [table] key`` in every error."""

    def __init__(self, path: str, table: str, guardrail_ids: set[str]):
        self.path, self.table, self.guardrail_ids = path, table, guardrail_ids

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: [{self.table}] {key}: {problem}")

    def strings(self, key: str, value) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "expected a list of strings")
        return value

    def string(self, key: str, value) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(key, "expected a non-empty string")
        return value

    def table_of(self, key: str, value) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, "expected a table")
        return value

    def selectors(self, key: str, value) -> list[str]:
        values = self.strings(key, value)
        for selector in values:
            _check_selector(self, key, selector)
        return values

    def choice(self, key: str, value, choices) -> str:
        if value not in choices:
            raise self.error(key, f"{value!r} is not one of {', '.join(choices)}")
        return value


def _check_selector(reader: _Reader, key: str, selector: str) -> None:
    """A selector must name something: ``ALL``, a rule's id, id prefix or name, or a guardrail's id."""
    from preflight.registry import all_rules

    if selector == "ALL":
        return
    known = [RuleRef(r.id, r.name) for r in all_rules().values()] + [RuleRef(i) for i in reader.guardrail_ids]
    if not any(rule.selected_by(selector) for rule in known):
        raise reader.error(key, f"{selector!r} matches no rule (`preflight rules` lists them)")


KEYS = {"select", "ignore", "severity", "per-file-ignores", "fail-on", "operations", "exclude",
        "placeholder-patterns", "region", "organization", "suppress", "guardrail", "plan-max-age"}
SUPPRESS_KEYS = {"rule", "file", "pointer", "reason", "expires"}
GUARDRAIL_KEYS = {"id", "message", "severity", "operations", "condition", "live"}
REGION = r"[a-z]{2}(-[a-z]+)+-\d+"  # compiled on first use: most configurations name no region
ORGANIZATION_ID = r"o-[a-z0-9]{10,32}"  # AWS Organizations API Reference, Organization: Id


def parse(settings: dict, path: str, section: tuple[str, ...] = ()) -> Config:
    from preflight.operations import OPERATIONS

    table = ".".join(section) or "top level"
    guardrails = settings.get("guardrail", [])
    if not isinstance(guardrails, list) or not all(isinstance(g, dict) for g in guardrails):
        raise ConfigError(f"{path}: [{table}] guardrail: expected an array of tables, [[guardrail]]")
    reader = _Reader(path, table, {g["id"] for g in guardrails if isinstance(g.get("id"), str)})
    unknown = sorted(set(settings) - KEYS)
    if unknown:
        raise reader.error(unknown[0], f"unknown key (known: {', '.join(sorted(KEYS))})")
    config = Config(path, section)
    config.given = set(settings)
    if "select" in settings:
        config.select = reader.selectors("select", settings["select"])
    if "ignore" in settings:
        config.ignore = reader.selectors("ignore", settings["ignore"])
    for selector, severity in reader.table_of("severity", settings.get("severity", {})).items():
        _check_selector(reader, f"severity.{selector}", selector)
        config.severity[selector] = reader.choice(f"severity.{selector}", severity, SEVERITIES)
    for pattern, selectors in reader.table_of("per-file-ignores", settings.get("per-file-ignores", {})).items():
        config.per_file_ignores[pattern] = reader.selectors(f"per-file-ignores.{pattern!r}", selectors)
    if "fail-on" in settings:
        config.fail_on = reader.choice("fail-on", settings["fail-on"], SEVERITIES)
    for pattern, operation in reader.table_of("operations", settings.get("operations", {})).items():
        config.operations[pattern] = reader.choice(f"operations.{pattern!r}", operation, tuple(OPERATIONS))
    config.exclude = reader.strings("exclude", settings.get("exclude", []))
    for pattern in reader.strings("placeholder-patterns", settings.get("placeholder-patterns", [])):
        try:
            linear_pattern(pattern)
        except ValueError as err:
            raise reader.error("placeholder-patterns", f"{pattern!r} is not a regular expression RE2 matches in "
                               f"linear time (no backreferences or lookaround): {err}") from None
    config.placeholder_patterns = settings.get("placeholder-patterns", [])
    if "region" in settings:
        region = reader.string("region", settings["region"])
        if not re.fullmatch(REGION, region):
            raise reader.error("region", f"{region!r} is not a region name such as us-east-1")
        config.region = region
    if "organization" in settings:
        organization = reader.string("organization", settings["organization"])
        if not re.fullmatch(ORGANIZATION_ID, organization):
            raise reader.error("organization", f"{organization!r} is not an organisation id such as o-a1b2c3d4e5")
        config.organization = organization
    if "plan-max-age" in settings:
        given = settings["plan-max-age"]
        try:
            duration(given if isinstance(given, str) else "")
        except ValueError:
            raise reader.error("plan-max-age", f"{given!r} is not a duration such as \"90m\", \"24h\" or \"7d\"") from None
        config.plan_max_age = given
    entries = settings.get("suppress", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise reader.error("suppress", "expected an array of tables, [[suppress]]")
    for index, entry in enumerate(entries):
        config.suppress.append(_suppression(reader, index, entry))
    for index, guardrail in enumerate(guardrails):
        unknown = sorted(set(guardrail) - GUARDRAIL_KEYS)
        if unknown:
            raise reader.error(f"guardrail[{index}].{unknown[0]}",
                               f"unknown key (known: {', '.join(sorted(GUARDRAIL_KEYS))})")
    config.guardrails = guardrails
    return config


def _suppression(reader: _Reader, index: int, entry: dict) -> SuppressionEntry:
    where = f"suppress[{index}]"
    unknown = sorted(set(entry) - SUPPRESS_KEYS)
    if unknown:
        raise reader.error(f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(SUPPRESS_KEYS))})")
    for key in ("rule", "reason"):
        if key not in entry:
            raise reader.error(f"{where}.{key}", "required")
    rule = reader.string(f"{where}.rule", entry["rule"])
    _check_selector(reader, f"{where}.rule", rule)
    reason = reader.string(f"{where}.reason", entry["reason"])
    expires = entry.get("expires")
    if expires is not None and not (isinstance(expires, datetime.date) and not isinstance(expires, datetime.datetime)):
        raise reader.error(f"{where}.expires", "expected a date such as 2027-01-31 (TOML date, no quotes)")
    return SuppressionEntry(index, rule, reader.string(f"{where}.file", entry.get("file", "*")),
                       reader.string(f"{where}.pointer", entry.get("pointer", "*")), reason, expires)
