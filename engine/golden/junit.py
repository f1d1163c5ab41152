"""JUnit XML for a comparison report, so CI systems show each golden case as a test."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def render_junit_xml(report: dict[str, Any]) -> str:
    """One <testsuite name="goldens">, one <testcase> per case; a regressed case carries <failure>,
    a case missing from the set is <skipped>. Times are the case's mean latency in seconds."""
    cases = report["cases"]
    missing = report.get("missing_cases", [])
    failures = sum(not row["passed"] for row in cases)
    total_time = sum(row["latency_ms"] for row in cases) / 1000
    suites = ET.Element("testsuites", name="aios-goldens", tests=str(len(cases) + len(missing)),
                        failures=str(failures), errors="0", time=f"{total_time:.3f}")
    suite = ET.SubElement(suites, "testsuite", name="goldens", tests=str(len(cases) + len(missing)),
                          failures=str(failures), errors="0", skipped=str(len(missing)),
                          time=f"{total_time:.3f}", timestamp=report["started_at"])
    props = ET.SubElement(suite, "properties")
    for name, value in (("status", report["status"]), ("threshold", report["threshold"]),
                        ("pass_rate", report["pass_rate"]), ("similarity_measure", report["similarity_measure"]),
                        ("set_hash", report["set"]["hash"]), ("baseline_hash", report["baseline"]["hash"]),
                        ("provider", report["provider"]), ("simulated", report["simulated"])):
        ET.SubElement(props, "property", name=name, value=str(value))
    classname = "goldens." + (report["set"]["path"].replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".json"))
    for row in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=row["id"],
                             time=f"{row['latency_ms'] / 1000:.3f}")
        detail = (f"similarity={row['similarity']} quality={row['quality']} "
                  f"baseline_quality={row['baseline_quality']} route={row['route']} source={row['source']} "
                  f"pass_rate={row['pass_rate']}")
        if not row["passed"]:
            failure = ET.SubElement(case, "failure", message="; ".join(row["reasons"]), type="GoldenRegression")
            failure.text = f"{row['question']}\n{detail}"
        else:
            ET.SubElement(case, "system-out").text = detail
    for row in missing:
        case = ET.SubElement(suite, "testcase", classname=classname, name=row["id"], time="0")
        ET.SubElement(case, "skipped", message=row["reason"])
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
