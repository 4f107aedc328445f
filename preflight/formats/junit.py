"""JUnit XML, for CI test-report views: one ``testsuite`` per checked file, one ``testcase`` per
rule that found something there (each finding a ``failure`` whose type is its severity), and one
passing ``testcase`` for a file with no findings. A suppressed finding is a ``skipped`` testcase
that gives the reason. A usage error is a testcase with an ``error``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from preflight.findings import Report
from preflight.formats import rule_title
from preflight.registry import all_rules
from preflight.formats.escape import escaped_report

# XML 1.0 cannot carry these characters even as references; they are shown as \uXXXX instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", value)


def render(report: Report, colour: bool = False) -> str:
    report = escaped_report(report)
    root = ET.Element("testsuites", name="preflight")
    if report.errors:
        suite = ET.SubElement(root, "testsuite", name="preflight", tests="1", failures="0", errors="1")
        case = ET.SubElement(suite, "testcase", name="usage", classname="preflight")
        for error in report.errors:
            ET.SubElement(case, "error", type="usage", message=_xml_text(error)).text = _xml_text(error)
    by_file = defaultdict(lambda: defaultdict(list))
    for f in report.findings:
        by_file[f.file][f.rule].append(f)
    kept_aside = defaultdict(list)
    for f in report.suppressed:
        kept_aside[f.file].append(f)
    rules = {**all_rules(), **report.rules} if report.findings or report.suppressed else {}  # with the guardrails
    for path in dict.fromkeys(report.files + list(by_file) + list(kept_aside)):
        found, skipped = by_file.get(path, {}), kept_aside.get(path, [])
        suite = ET.SubElement(root, "testsuite", name=_xml_text(path), file=_xml_text(path),
                              tests=str(max(len(found), 1) + len(skipped)),
                              failures=str(len(found)), errors="0", skipped=str(len(skipped)))
        for f in skipped:
            case = ET.SubElement(suite, "testcase", name=rule_title(f.rule, rules), classname=_xml_text(path))
            reason = f"suppressed: {f.suppression.reason} ({f.suppression.source})"
            ET.SubElement(case, "skipped", message=_xml_text(reason)).text = _xml_text(
                f"{f.file}:{f.line}:{f.column} {f.pointer or '/'}\n{f.message}")
        if not found:
            ET.SubElement(suite, "testcase", name="preflight check", classname=_xml_text(path))
        for rule_id, findings in found.items():
            case = ET.SubElement(suite, "testcase", name=rule_title(rule_id, rules),
                                 classname=_xml_text(path))
            for f in findings:
                message = f.message + (f" (fix: {f.fix})" if f.fix else "")
                failure = ET.SubElement(case, "failure", type=str(f.severity), message=_xml_text(message))
                failure.text = _xml_text(f"{f.file}:{f.line}:{f.column} {f.pointer or '/'}\n{message}")
    counts = {key: sum(int(suite.get(key)) for suite in root) for key in ("tests", "failures", "errors")}
    root.attrib.update({key: str(value) for key, value in counts.items()})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
