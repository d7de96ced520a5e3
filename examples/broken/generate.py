"""Generator of the broken variant of the Glenmuir demo map: the same map (same map_id), a later delivery in which
some partners sent broken extracts. Derived from the demo's config and extracts, so it follows them when they
change; everything not broken is read from `../demo/extracts` by relative path.

    ism.toml    publishes: four sources on `quarantine` fail (three have a last good extract if the demo was
                published first to the same root: amber, stale; one is new: red, missing), two on `fail` only
                lose a few rows (amber)
    fail.toml   the same, plus the acute unit list (on `fail`) broken: nothing is published, `latest` stays

    python -m examples.broken.generate [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from examples.demo.generate import write_files

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "demo"
DEMO_FROM_HERE = "../demo"  # how the broken configs name the demo's folder
PUBLISH_ROOT = "../../build/broken"


def _rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))


def _csv(rows: Sequence[Sequence[str]], delimiter: str = ",", line_end: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    return out.getvalue()


def council_activity_renamed(text: str) -> str:
    """The council's new system renamed the month column: the mapping no longer finds it (whole file blocked)."""
    return text.replace("Reporting Month", "Month Reported", 1)


def housing_activity_garbled(text: str) -> str:
    """Every fifth count garbled (negative, or a note instead of a number): far over max_reject_share."""
    rows = _rows(text)
    for number, row in enumerate(rows[1:], start=1):
        if number % 5 == 0:
            row[-1] = f"-{row[-1]}" if number % 10 else "see note"
    return _csv(rows)


def acute_activity_with_a_few_bad_rows(text: str) -> str:
    """Four bad rows of 300 (within max_reject_share), one absurd outlier kept and flagged, an unused column."""
    rows = _rows(text)
    rows[0].append("Comments")
    for row in rows[1:]:
        row.append("")
    rows[3][3] = "-56"  # negative
    rows[4][3] = "n/a"  # not a number
    rows[5][0] = "April 2025"  # not a period
    rows.append(list(rows[6]))  # the same month twice
    series = [r for r in rows[1:] if r[1] == rows[8][1] and r[2] == rows[8][2]]
    series[-1][3] = str(int(series[-1][3].replace(",", "")) * 60)  # sixty times the usual month
    return _csv(rows)


def gp_referrals_with_unknown_codes(data: bytes) -> bytes:
    """Three referrals to a destination code the crosswalk does not know (rows rejected, source kept)."""
    text = data.decode("cp1252")
    rows = _rows(text, ";")
    rows += [[rows[1][0], rows[1][1], "AE-ELSEWHERE", "3"],
             [rows[2][0], rows[2][1], "NEW-CLINIC", "4"], [rows[2][0], rows[-1][1], "NEW-CLINIC", "5"]]
    return _csv(rows, ";", "\r\n").encode("cp1252")


def acute_units_ragged(text: str) -> str:
    """A unit name with an unquoted comma: one row has a field too many, so the file cannot be read."""
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace("Acute Medical Unit", "Acute Medical Unit, GRI", 1)
    return "".join(lines)


HOUSING_REPAIRS = "Month,Service ID,Repairs\n2025-04,HOA,12\n2025-05,Café Court,9\n".encode("cp1252")

# broken file (under extracts/) -> (demo extract it derives from, how it is broken)
BROKEN_FILES: dict[str, tuple[str, Callable[[str], str]]] = {
    "glenmuir_council/sw_activity.csv": ("glenmuir_council/sw_activity.csv", council_activity_renamed),
    "glenmuir_housing/housing_activity.csv": ("glenmuir_housing/housing_activity.csv", housing_activity_garbled),
    "nhs_glenmuir_acute/activity_monthly.csv": ("nhs_glenmuir_acute/activity_monthly.csv",
                                                acute_activity_with_a_few_bad_rows),
    "nhs_glenmuir_acute/units.csv": ("nhs_glenmuir_acute/units.csv", acute_units_ragged),
}
# source id -> (its location in the broken map, on_error)
BROKEN_SOURCES = {
    "council_activity": ("extracts/glenmuir_council/sw_activity.csv", "quarantine"),
    "housing_activity": ("extracts/glenmuir_housing/housing_activity.csv", "quarantine"),
    "third_sector_contacts": ("extracts/glenmuir_third_sector/contacts_2026-03.csv", "quarantine"),  # not sent
    "acute_activity": ("extracts/nhs_glenmuir_acute/activity_monthly.csv", "fail"),
    "gp_referrals": ("extracts/glenmuir_gp_cluster/referrals.csv", "fail"),
}
FAIL_ONLY = {"acute_units": ("extracts/nhs_glenmuir_acute/units.csv", "fail")}
NEW_SOURCE = """
# ==== broken variant: a new extract from the housing partner, in the wrong encoding (no last good: missing) =====

[[sources]]
id = "housing_repairs"
partner = "glenmuir_housing"
kind = "csv"
location = "extracts/glenmuir_housing/repairs.csv"
table = "activity"
on_error = "quarantine"
columns = { service_key = "Service ID", period = "Month", value = "Repairs" }
constants = { measure = "repairs" }
"""


def _source_block(text: str, source_id: str) -> tuple[int, int]:
    """Start and end offsets of one [[sources]] entry (up to the next array entry or the end)."""
    match = re.search(rf'^\[\[sources\]\]\nid = "{re.escape(source_id)}"\n', text, flags=re.MULTILINE)
    if match is None:
        raise SystemExit(f"the demo config has no source {source_id!r}: update examples/broken/generate.py")
    following = re.compile(r"^\[\[", flags=re.MULTILINE).search(text, match.end())
    return match.start(), following.start() if following else len(text)


def broken_config(demo: str, sources: dict[str, tuple[str, str]], title: str) -> str:
    """The demo's config with every extract read from the demo's folder, except the broken ones."""
    text = demo.replace('"extracts/', f'"{DEMO_FROM_HERE}/extracts/')
    text = re.sub(r'^publish_root = .*$', f'publish_root = "{PUBLISH_ROOT}"\nallowed_roots = ["{DEMO_FROM_HERE}"]',
                  text, count=1, flags=re.MULTILINE)
    for source_id, (location, policy) in sources.items():
        start, end = _source_block(text, source_id)
        block = re.sub(r'^location = .*$', f'location = "{location}"\non_error = "{policy}"',
                       text[start:end], count=1, flags=re.MULTILINE)
        text = text[:start] + block + text[end:]
    header = (f"# GENERATED by `python -m examples.broken.generate` from examples/demo/ism.toml: {title}\n"
              "# Do not edit: change the generator.\n")
    return header + text.rstrip("\n") + "\n" + NEW_SOURCE


def broken_files() -> dict[str, bytes]:
    """Every file the broken variant writes, relative to its folder."""
    demo = (DEMO / "ism.toml").read_text(encoding="utf-8")
    files = {f"extracts/{name}": change((DEMO / "extracts" / source).read_text(encoding="utf-8-sig")).encode()
             for name, (source, change) in BROKEN_FILES.items()}
    files["extracts/glenmuir_gp_cluster/referrals.csv"] = gp_referrals_with_unknown_codes(
        (DEMO / "extracts" / "glenmuir_gp_cluster" / "referrals.csv").read_bytes())
    files["extracts/glenmuir_housing/repairs.csv"] = HOUSING_REPAIRS
    files["ism.toml"] = broken_config(demo, BROKEN_SOURCES, "a delivery with broken extracts").encode()
    files["fail.toml"] = broken_config(demo, {**BROKEN_SOURCES, **FAIL_ONLY},
                                       "the same delivery, with the acute unit list broken too").encode()
    return files


def write_broken(out: Path = HERE) -> list[Path]:
    """Write the broken variant under `out`; returns the paths written."""
    return write_files(broken_files(), out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the broken variant of the Glenmuir demo map.")
    parser.add_argument("--out", type=Path, default=HERE, help=f"folder to write into (default {HERE})")
    args = parser.parse_args(argv)
    print(f"wrote {len(write_broken(args.out))} files under {args.out}")


if __name__ == "__main__":
    main()
