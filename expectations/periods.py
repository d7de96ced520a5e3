"""How a mapped period may be written: the contract both staging paths parse (transforms/standardise.py in pandas,
transforms/staging_sql.py in DuckDB) and `ism init` recognises (sources/profile.py)."""

from __future__ import annotations

PERIOD_FORMATS = (  # (pattern, strptime format or None for ISO date-times, is a month, what a person calls it)
    (r"^\d{4}-\d{2}$", "%Y-%m", True, "YYYY-MM"),
    (r"^\d{6}$", "%Y%m", True, "YYYYMM"),
    (r"^\d{8}$", "%Y%m%d", False, "YYYYMMDD"),  # Public Health Scotland's dates (a week's end, a date enacted)
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d", False, "YYYY-MM-DD"),
    (r"^\d{4}-\d{2}-\d{2}[T ][\d:.]+$", None, False, "YYYY-MM-DD hh:mm"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%d/%m/%Y", False, "DD/MM/YYYY"),
)
# periods published longer than a month keep their own span (a quarter is never split into months)
QUARTER = r"^(\d{4})\s*-?Q([1-4])$"  # 2022Q3: July to September 2022
FINANCIAL_YEAR = r"^(\d{4})/(\d{2})$"  # 2021/22: April 2021 to March 2022
ISO_WEEK = r"^(\d{4})-W(\d{2})$"  # 2022-W05: Monday to Sunday
SPAN_FORMATS = ((QUARTER, "YYYYQn"), (FINANCIAL_YEAR, "YYYY/YY"), (ISO_WEEK, "YYYY-Www"))
