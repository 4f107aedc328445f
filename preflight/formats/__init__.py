"""Output formats: each is a pure function ``render(report, **options) -> str``. Every string
taken from inputs or from AWS is escaped first: ``render`` starts from ``escape.escaped_report``."""

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


def repository_path(path: str) -> str:
    """A file's path relative to the working directory (where CI runs: the repository's root),
    with ``/`` separators, when the file is inside it; otherwise its absolute path."""
    import os
    import pathlib

    if path == "-":
        return path
    absolute = pathlib.Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        return str(absolute)


def rule_title(rule_id: str, rules: dict) -> str:
    """``PF110 placeholder-left-in-value``; a rule that is not in ``rules`` (a rule an organisation
    adds in its configuration) by its id alone."""
    rule = rules.get(rule_id)
    return f"{rule_id} {rule.name}" if rule is not None else rule_id
