"""Output formats: each is a pure function ``render(report, **options) -> str``."""

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")
