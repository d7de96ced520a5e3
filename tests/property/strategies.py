"""Generated partner extracts, well-formed and broken in the ways partners break them, with what each row should read
as (the oracle the property tests compare the pipeline with)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import strategies as st

from transforms.numbers import LARGEST_EXACT, NumberRule

SERVICE_KEYS = ["ED", "AMU"]  # the mini map's nhs services (tests/conftest.py MINI_EXTRACTS)
HEADER = ["code", "month", "n"]  # the nhs_activity source's mapped columns


@dataclass(frozen=True)
class Count:
    """A count as the partner wrote it, and the number it means under the source's rule (None: not readable)."""

    text: str
    value: float | None


@dataclass
class Extract:
    """Bytes of one activity extract, what each data row should become, and what was broken."""

    data: bytes
    counts: dict[tuple[str, str], Count] = field(default_factory=dict)  # (service code, month) of a row -> count
    broken: list[str] = field(default_factory=list)  # what the generator did to it (for the failure report)
    rule: NumberRule = NumberRule()


def _exact(text: str, rule: NumberRule) -> float | None:
    """The oracle: the number `text` spells under `rule` (Decimal arithmetic), or None when the rule cannot read it
    exactly (not its spelling, or beyond what a float holds)."""
    core = text.strip()
    if rule.thousands == " ":
        core = core.replace("\u00a0", " ").replace("\u202f", " ")
    if not core or not rule.pattern().match(core):
        return None
    plain = core.replace(rule.thousands, "") if rule.thousands else core
    number = Decimal(plain.replace(rule.decimal, "."))
    significant = any(c in "123456789" for c in plain.upper().split("E")[0])
    if abs(number) >= LARGEST_EXACT or (number == 0 and significant):
        return None
    return float(number)


RULES = st.sampled_from([NumberRule(), NumberRule(",", "."), NumberRule(".", ""), NumberRule(",", " ")])


@st.composite
def counts(draw: st.DrawFn, rule: NumberRule) -> Count:
    """A count in one of many notations: plain, grouped, decimal comma or point, exponent, signs, spaces, words,
    other scripts' digits, suppression marks."""
    whole = draw(st.integers(0, 10**7))
    fraction = draw(st.sampled_from(["", "5", "25", "0"]))
    spelled = draw(st.sampled_from(["plain", "grouped_comma", "grouped_point", "grouped_space", "decimal_comma",
                                    "decimal_point", "exponent", "signed", "padded", "junk", "suppressed"]))
    if spelled == "junk":
        text = draw(st.sampled_from(["inf", "NaN", "n/a", "12%", "£5", "0x1f", "١٢", "1_000", "--1", "1e", ".",
                                     "12.5.6", "1,23,456", "twelve", "1 2 3"]))
    elif spelled == "suppressed":
        text = draw(st.sampled_from(["<5", "*", "c"]))
    else:
        grouped = {"grouped_comma": ",", "grouped_point": ".", "grouped_space": "\u00a0"}.get(spelled, "")
        text = f"{whole:,}".replace(",", grouped) if grouped else str(whole)
        if fraction and spelled in ("decimal_comma", "decimal_point"):
            text += ("," if spelled == "decimal_comma" else ".") + fraction
        if spelled == "exponent":
            text = f"{whole}E+0{draw(st.integers(0, 3))}"
        if spelled == "signed":
            text = draw(st.sampled_from(["+", "-"])) + text
        if spelled == "padded":
            text = f"  {text} "
    if text in ("<5", "*", "c"):
        return Count(text, None)
    return Count(text, _exact(text, rule))


def _quoted(cell: str, delimiter: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if any(c in cell for c in f'{delimiter}"\r\n') else cell


BREAKAGES = ["none", "encoding", "delimiter", "unclosed_quote", "line_ends", "bom", "no_header", "repeated_header",
             "blank_header", "ragged_row", "huge_field", "binary_junk", "empty", "header_only", "utf16"]


@st.composite
def extracts(draw: st.DrawFn, max_field_length: int) -> Extract:
    """An activity extract for the mini map's nhs_activity source, broken in one (or no) way."""
    rule = draw(RULES)
    rows = draw(st.lists(st.tuples(st.sampled_from(SERVICE_KEYS), st.sampled_from(["2025-04", "2025-05"]),
                                   counts(rule)), min_size=1, max_size=6, unique_by=lambda r: (r[0], r[1])))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    breakage = draw(st.sampled_from(BREAKAGES))
    delimiter = ";" if breakage == "delimiter" else ","
    header = list(HEADER)
    if breakage == "repeated_header":
        header[draw(st.integers(1, 2))] = header[0]
    if breakage == "blank_header":
        header[draw(st.integers(0, 2))] = ""
    lines = [delimiter.join(header)]
    extract = Extract(b"", broken=[breakage], rule=rule)
    for code, month, count in rows:
        cells = [code, month, count.text]
        if breakage == "huge_field" and not extract.counts:
            cells[draw(st.integers(0, 2))] = "x" * (max_field_length + draw(st.integers(1, 50)))
        lines.append(delimiter.join(_quoted(c, delimiter) for c in cells))
        extract.counts[(code, month)] = count
    if breakage == "ragged_row":
        at = draw(st.integers(1, len(lines) - 1))
        lines[at] = lines[at] + ",extra" if draw(st.booleans()) else lines[at].rsplit(",", 1)[0]
    if breakage == "unclosed_quote":
        at = draw(st.integers(1, len(lines) - 1))
        lines[at] = lines[at].replace(",", ',"', 1)
    if breakage == "no_header":
        lines = lines[1:]
    if breakage == "header_only":
        lines, extract.counts = lines[:1], {}
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    if breakage == "line_ends":
        text = text.replace(end, draw(st.sampled_from(["\r", "\n\r", "\r\r\n"])))
    if breakage == "empty":
        text, extract.counts = draw(st.sampled_from(["", "\n", "   ", "\r\n\r\n"])), {}
    if breakage == "encoding":
        text = text.replace("code", "c\u00f3digo", 1)  # accented text written in the wrong code page
        extract.data = text.encode("cp1252", errors="replace")
    elif breakage == "utf16":
        extract.data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    else:
        extract.data = (codecs.BOM_UTF8 if breakage == "bom" else b"") + text.encode("utf-8")
    if breakage == "binary_junk":
        junk = draw(st.binary(min_size=1, max_size=24))
        at = draw(st.integers(0, len(extract.data)))
        extract.data = extract.data[:at] + junk + extract.data[at:]
    return extract
