"""A baseline is for the whole repository; a run of some of its files (a pre-commit hook passes only
the files a commit changed) reads and rewrites only their entries."""

from __future__ import annotations

import json

from test_suppressions import FILES, repo  # noqa: F401 - the fixture: a repository with known findings

INFER, TRAIN = FILES


def _entries(repo) -> list[tuple[str, str]]:  # noqa: F811
    return sorted((e["rule"], e["file"]) for e in json.loads((repo / "baseline.json").read_text())["findings"])


def test_a_run_of_some_files_leaves_the_others_entries_alone(run_cli, repo):  # noqa: F811
    assert run_cli("check", "--write-baseline", "baseline.json", *FILES, cwd=repo).returncode == 0
    everything = _entries(repo)
    assert ("PF124", INFER) in everything

    result = run_cli("check", "-f", "json", "--baseline", "baseline.json", TRAIN, cwd=repo)

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["baseline"]
    assert report["gone"] == [] and report["new"] == 0
    assert report["known"] == 1  # the configuration's own entry (PF500): the configuration is in every run

    assert run_cli("check", "--write-baseline", "baseline.json", TRAIN, cwd=repo).returncode == 0
    assert _entries(repo) == everything  # infer's entry kept: this run did not check it


def test_an_entry_of_a_checked_or_deleted_file_can_be_gone(run_cli, repo):  # noqa: F811
    run_cli("check", "--write-baseline", "baseline.json", *FILES, cwd=repo)
    fixed = (repo / INFER).read_text().replace("infer-bucket", "sagemaker-infer")
    (repo / INFER).write_text(fixed)
    report = json.loads(run_cli("check", "-f", "json", "--baseline", "baseline.json", INFER, cwd=repo).stdout)
    assert [(e["rule"], e["file"]) for e in report["baseline"]["gone"]] == [("PF124", INFER)]

    (repo / INFER).unlink()
    report = json.loads(run_cli("check", "-f", "json", "--baseline", "baseline.json", TRAIN, cwd=repo).stdout)
    assert [(e["rule"], e["file"]) for e in report["baseline"]["gone"]] == [("PF124", INFER)]
    run_cli("check", "--write-baseline", "baseline.json", TRAIN, cwd=repo)
    assert ("PF124", INFER) not in _entries(repo)
