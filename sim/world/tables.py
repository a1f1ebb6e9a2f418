"""Data CSVs checked row by row before they are used (population and provinces files).

pandas reads what it can: a row longer than the header shifts or drops values, ``inf`` is
a number, an empty name is NaN, a duplicated column is renamed. So a file is first scanned
with the :mod:`csv` module (size, row count, a header of distinct non-empty names, every
row as long as the header) and each column is then checked against its range (finite, in
bounds, whole where it counts things). Every problem names the file, the column and the
data rows (1-based, comments and blank lines not counted), and all are reported together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadInput, Problem
from ..limits import MAX_CSV_BYTES, MAX_CSV_ROWS, format_bytes


def _rows(path: str, where: str, key: str) -> tuple[str, list[Problem]]:
    """The file's text, and the structural problems found scanning it."""
    p = Path(path)
    if not p.is_file():
        raise BadInput.one(where, key, f"CSV file not found: {path}")
    size = p.stat().st_size
    if size > MAX_CSV_BYTES:
        raise BadInput.one(
            path,
            "",
            f"{format_bytes(size)}: larger than the {format_bytes(MAX_CSV_BYTES)} a data CSV may "
            f"have (at most {MAX_CSV_ROWS:,} rows)",
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput.one(path, "", f"not a readable CSV: {exc}") from None
    problems: list[Problem] = []
    header: list[str] | None = None
    ragged: list[int] = []
    n = 0
    try:
        for row in csv.reader(_uncommented(text), skipinitialspace=True):
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                continue
            n += 1
            if n > MAX_CSV_ROWS:
                raise BadInput.one(
                    path, "", f"more than {MAX_CSV_ROWS:,} data rows (the most a data CSV may have)"
                )
            if len(row) != len(header) and not (len(row) > len(header) and not any(
                c.strip() for c in row[len(header):]
            )):  # fmt: skip
                ragged.append(n)
    except csv.Error as exc:
        raise BadInput.one(path, "", f"not a readable CSV: {exc}") from None
    if header is None:
        raise BadInput.one(path, "", "no header row (and no rows)")
    if any(not c for c in header):
        problems.append(Problem(path, "", "the header has an empty column name"))
    dupes = sorted({c for c in header if c and header.count(c) > 1})
    if dupes:
        problems.append(Problem(path, "", f"duplicate column name(s) {', '.join(dupes)}"))
    if ragged:
        problems.append(
            Problem(
                path,
                "",
                f"data row(s) {_list(ragged)} do not have the header's {len(header)} fields",
            )
        )
    return text, problems


def scan_csv(path: str, where: str, key: str) -> tuple[str, list[Problem]]:
    """The file's text and its structural problems (header, ragged rows, size), for other
    CSV readers (the calibration's targets) to share these checks."""
    return _rows(path, where, key)


def _uncommented(text: str) -> Iterator[str]:
    """Lines with everything from a ``#`` outside quotes removed (as pandas' comment="#")."""
    quoted = False
    for line in text.splitlines():
        out = []
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif ch == "#" and not quoted:
                break
            out.append(ch)
        yield "".join(out)


def _list(rows: list[int], most: int = 5) -> str:
    shown = ", ".join(str(r) for r in rows[:most])
    return shown + (f" and {len(rows) - most} more" if len(rows) > most else "")


def read_table(
    path: str, scenario_file: str, key: str, columns: dict[str, str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a data CSV that the scenario's ``key`` names (``#`` comments allowed): the frame,
    and the problems found so far (structure, missing ``columns``). Raises when the file
    cannot be read at all."""
    text, problems = _rows(path, scenario_file, key)
    if problems:  # the values are not where the header says: report the structure first
        raise BadInput(problems)
    try:
        frame = pd.read_csv(io.StringIO(text), comment="#", skipinitialspace=True, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise BadInput.one(str(path), "", f"not a readable CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        required = ", ".join(f"{k} ({v})" for k, v in columns.items())
        message = f"missing column(s) {', '.join(missing)}; required: {required}"
        problems.append(Problem(str(path), "", message))
    if frame.empty:
        problems.append(Problem(str(path), "", "no rows"))
    return frame, problems


def check_names(frame: pd.DataFrame, path: str, column: str, what: str) -> list[Problem]:
    """Names present (not empty) and distinct; the column is stripped in place."""
    if column not in frame.columns:
        return []
    names = frame[column].fillna("").astype(str).str.strip()
    frame[column] = names
    problems = []
    empty = [i + 1 for i in np.flatnonzero(names == "")]
    if empty:
        problems.append(Problem(path, column, f"empty {what} name in data row(s) {_list(empty)}"))
    dupes = sorted(set(names[(names != "") & names.duplicated()]))
    if dupes:
        problems.append(Problem(path, column, f"duplicate {what} name(s): {', '.join(dupes)}"))
    return problems


def check_numbers(
    frame: pd.DataFrame,
    path: str,
    column: str,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    whole: bool = False,
) -> list[Problem]:
    """The column is numbers in [low, high] (``low_open``: (low, high]), whole numbers if
    ``whole``; converted in place when it is. One problem per kind, naming the rows."""
    if column not in frame.columns:
        return []
    values = pd.to_numeric(frame[column], errors="coerce")
    v = values.to_numpy(float)
    problems = []
    missing = np.isnan(v)
    if missing.any():
        rows = _list([i + 1 for i in np.flatnonzero(missing)])
        problems.append(Problem(path, column, f"non-numeric or empty value in data row(s) {rows}"))
    infinite = np.isinf(v)
    if infinite.any():
        rows = _list([i + 1 for i in np.flatnonzero(infinite)])
        problems.append(Problem(path, column, f"non-finite value in data row(s) {rows}"))
    finite = np.isfinite(v)
    below = finite & ((v <= low) if low_open else (v < low))
    out = finite & (below | (v > high))
    if out.any():
        rows = _list([i + 1 for i in np.flatnonzero(out)])
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        problems.append(
            Problem(path, column, f"must be {bound} and <= {high:g} (data row(s) {rows})")
        )
    if whole:
        fraction = finite & (v != np.round(v))
        if fraction.any():
            rows = _list([i + 1 for i in np.flatnonzero(fraction)])
            problems.append(Problem(path, column, f"must be a whole number (data row(s) {rows})"))
    if not problems:
        frame[column] = values.astype(int) if whole else values
    return problems
