#!/usr/bin/env python3
"""Sum what one `swift test` run reports and print one plain closing line:
"N passed, N failed[, N skipped]".

Swift Testing: the xUnit file that `swift test --xunit-output` writes (`*-swift-testing.xml`).
XCTest: without --parallel swift test writes no xUnit file for it, so its counts come from the
log's final "Executed N tests, with M failures" summary.
Usage: xunit-summary.py LOG XML...   Exits 1 if any test failed or no test ran at all."""
import re
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
log, xmls = sys.argv[1], sys.argv[2:]
for path in xmls:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
try:
    text = open(log, encoding="utf-8", errors="replace").read()
except OSError:
    text = ""
# The last "All tests" summary of XCTest, e.g. "Executed 6 tests, with 1 test skipped and 1 failure".
summaries = re.findall(r"Test Suite 'All tests' (?:passed|failed)[^\n]*\n\s*Executed (\d+) tests?, with (?:(\d+) tests? skipped and )?(\d+) failures?", text)
if summaries:
    total, xskipped, xfailed = summaries[-1]
    total, xskipped, xfailed = int(total), int(xskipped or 0), int(xfailed)
    passed += total - xskipped - xfailed
    skipped += xskipped
    failed += xfailed
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
