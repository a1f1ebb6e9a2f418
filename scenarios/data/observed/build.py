"""Build the tidy observed-data tables from the copied source tables (issue 21).

Reads ``sources/*.csv`` (hand transcriptions of public web pages, copied into the
repository with their URLs; see ``sources/README.md``) and ``../china_provinces.csv``
(province names), and writes, one row per observation:

* ``platforms.csv`` — counts over time: services on Guangdong's 粤省事, users of the
  provincial apps, Zhejiang's share of items online, provinces with a provincial platform;
* ``rankings.csv`` — published provincial rankings and tiers, one row per (index, year,
  province);
* ``milestones.csv`` — dates the mapping uses as the calendar year of model year 0.

Columns: ``what, where, when, year, value, unit, bound, uncertainty, source_url,
source_grade, note``. ``year`` is the decimal calendar year of ``when`` (a month: its
middle; a bare year: its middle, or its end for end-of-year statements, marked in the
selection below). ``uncertainty`` is one standard deviation in the value's unit, from the
source grade (:data:`RELATIVE_SD`; ranks: :data:`RANK_SD`). ``bound`` is ``=``, ``>`` (the
source says "more than") or ``<=``.

Run ``python scenarios/data/observed/build.py`` from the repository root; it rewrites the
three tables (a test checks they are what this script makes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
COLUMNS = ["what", "where", "when", "year", "value", "unit", "bound", "uncertainty",
           "source_url", "source_grade", "note"]  # fmt: skip

GRADES = {
    # domain (as cited) -> grade, from the source notes (sources/README.md):
    # A official government site; B state media / major outlet or a faithful mirror of one;
    # C aggregator or unattributed plausible copy; D garbled or spun text.
    "zfsg.gd.gov.cn": "A",
    "english.zj.gov.cn": "A",
    "www.hangzhou.gov.cn": "A",
    "en.sx.gov.cn": "A",
    "www.scmp.com": "B",
    "eyelogue.com": "B",
    "governmentruinseverything.com": "B",
    "www.dutenews.com": "B",
    "www.chinanews.com": "B",
    "hangzhou.baogaosu.com": "B",
    "huiyingmeng.com": "B",
    "english.chinatoday.com.cn": "B",
    "fww.org.cn": "B",
    "m.nsh-em.com": "B",
    "opkks.com": "B",
    "www.chinadaily.com.cn": "B",
    "www.ecas.cas.cn": "B",
    "zj.news.163.com": "B",
    "e-gov.org.cn": "B",
    "www.ccdyzl.cn": "C",
    "m.handmsg.com": "C",
    "wiwiwiki.kfd.me": "C",
    "jingzhou.cjyun.org": "C",
    "bbbdzs.com": "C",
    "soolun.net": "C",
    "hz.baitongwang.com": "C",
    "zhousa.com": "C",
    "sxjhsd.com": "C",
    "www.jizihe.com": "C",
    "baseballcity.cn": "C",
    "www.hfjinjia.cn": "D",
}
RELATIVE_SD = {"A": 0.05, "B": 0.10, "C": 0.20, "D": 0.40}
"""One sd as a share of the value, by source grade: transcription and definition error of
a figure read from an official page is taken as 5 %, from state media 10 %, from an
aggregator 20 %, from a garbled page 40 % (judgements, stated once here)."""
RANK_SD = {"A": 0.0, "B": 0.0, "C": 1.0, "D": 3.0}
"""One sd of a published rank, in places, by source grade (a copy may have shifted one)."""

# (what, where, platform, measure substring, date or "", unit, end-of-year?)
PLATFORM_SERIES = [
    ("services", "Guangdong", "粤省事", "services handled via", "", "services", False),
    ("services", "Guangdong", "粤省事", "services online", "", "services", True),
    ("services", "Guangdong", "粤省事", "services available", "", "services", False),
    ("users", "Guangdong", "粤省事", "real-name registered users", "2019-04-21", "persons",
     False),
    ("users", "Guangdong", "粤省事", "real-name users", "2019-07", "persons", False),
    ("users", "Guangdong", "粤省事", "registered users", "", "persons", False),
    ("users", "Guangdong", "粤省事", "cumulative real-name registered users", "", "persons",
     False),
    ("users", "Guangdong", "粤省事", "real-name users", "2023-12-06", "persons", False),
    ("items_online_share", "Zhejiang", "浙江政务服务网", "share of province/city/county items",
     "", "percent", True),
    ("items_online_share", "Zhejiang", "浙江政务服务网", "share of items available online",
     "", "percent", True),
    ("items_online_share", "Hangzhou", "杭州 (city)", "online handling realisation rate", "",
     "percent", False),
    ("users", "Zhejiang", "浙江政务服务网", "registered users", "", "persons", False),
    ("users", "Zhejiang", "浙里办", "real-name registered users", "", "persons", False),
    ("users", "Zhejiang", "浙里办", "users", "2024-08-01", "persons", False),
]  # fmt: skip
# (what, milestone date, event substring, end-of-year?)
NATIONAL_SERIES = [
    ("provinces_with_platform", "2015", "provincially-coordinated online platform (derived)",
     True),
    ("provinces_with_platform", "2016", "provincially-coordinated online government service",
     True),
    ("provinces_with_platform", "2018 (per report", "integrated platforms covering", True),
]  # fmt: skip
MILESTONES = [
    ("start", "Zhejiang", "2014-06-25", "浙江政务服务网 launched"),
    ("start", "Guangdong", "2018-05-21", "Guangdong launches 粤省事"),
    ("proposed", "Zhejiang", "2016-12", "Zhejiang proposes '最多跑一次'"),
    ("guideline", "China", "2016-09-25", "State Council guideline"),
    ("pilots", "China", "2018-07-25", "9 pilot provinces"),
]
PROVINCES_OF_CHINA = 32  # the national counts are out of 31 provinces + the XPCC
RANKED_INDICES = {
    # index_name -> (short name, domain of the ranking)
    "CPS_NAG_online_gov_service_capability": ("cps", "all"),
    "Tsinghua_DGDI_digital_gov_development": ("dgdi", "all"),
    "CSTC_digital_gov_service_capability": ("cstc", "all"),
    "CAC_Digital_China_development_level": ("cac", "all"),
    "Tsinghua_gov_website_performance_province_portals": ("portals", "provinces"),
}


def grade(url: str) -> str:
    """The source grade of a cited URL (by its domain); a URL-less citation (a wire story
    the search index did not return) is C."""
    m = re.match(r"https?://([^/]+)/", url + "/")
    if m is None:
        return "C"
    return GRADES[m.group(1)]


def decimal_year(when: str, *, end_of_year: bool = False) -> float:
    """``2018-05-21`` -> 2018.38; ``2019-07`` -> 2019.54; ``2017`` -> 2017.5 (its end when
    ``end_of_year``)."""
    when = when.strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", when) or re.match(r"(\d{4})", when)
    assert m is not None, when
    y = int(m.group(1))
    groups = (*m.groups(), None, None)
    month, day = groups[1], groups[2]
    if month is None:
        return round(y + (1.0 if end_of_year else 0.5), 3)
    start = pd.Timestamp(year=y, month=int(month), day=int(day) if day else 1)
    days = pd.Timestamp(year=y, month=12, day=31).day_of_year
    offset = (start.day_of_year - 1) + (0 if day else start.days_in_month / 2)
    return round(y + offset / days, 3)


def _bound(unit: str) -> str:
    return ">" if "(>)" in unit else ("<=" if "<=" in unit else "=")


def _row(what, where, when, value, unit, url, note, *, end_of_year=False, rank=False):
    g = grade(url)
    sd = RANK_SD[g] if rank else round(abs(float(value)) * RELATIVE_SD[g], 6)
    return {
        "what": what, "where": where, "when": when,
        "year": decimal_year(when, end_of_year=end_of_year), "value": value, "unit": unit,
        "bound": _bound(unit), "uncertainty": sd, "source_url": url, "source_grade": g,
        "note": note,
    }  # fmt: skip


def _one(frame: pd.DataFrame, mask: pd.Series, label: str) -> pd.Series:
    hits = frame[mask]
    if len(hits) != 1:
        raise SystemExit(f"build.py: {label}: expected one source row, found {len(hits)}")
    return hits.iloc[0]


def platforms(counts: pd.DataFrame, milestones: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for what, where, platform, measure, date, unit, eoy in PLATFORM_SERIES:
        mask = (counts.platform == platform) & counts.measure.str.startswith(measure)
        if date:
            mask &= counts.date == date
        for _, r in counts[mask].iterrows():
            unit_out = unit + (" (>)" if "(>)" in r.unit else "")
            rows.append(_row(f"{what}", where, r.date, float(r.value), unit_out, r.source_url,
                             f"{platform}: {r.measure}", end_of_year=eoy))  # fmt: skip
    for what, date, event, eoy in NATIONAL_SERIES:
        m = _one(milestones, milestones.date.str.startswith(date)
                 & milestones.event.str.contains(event, regex=False), event)  # fmt: skip
        when = date[:4]
        rows.append(_row(what, "China", when, float(m.value),
                         f"provincial units of {PROVINCES_OF_CHINA}", m.source_url,
                         m.event, end_of_year=eoy))  # fmt: skip
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["what"] = out["where"].map(_prefix) + out["what"]
    return out.sort_values(["what", "year"], kind="stable").reset_index(drop=True)


def _prefix(where: str) -> str:
    return {"Guangdong": "yueshengshi_", "Zhejiang": "zhejiang_", "Hangzhou": "hangzhou_",
            "China": ""}[where]  # fmt: skip


def rankings(index: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Published ranks (``unit`` = rank) and tiers (``unit`` = tier, ``value`` = the tier's
    order, 1 = top), one row per (index, year, province)."""
    rows = []
    for _, r in index.iterrows():
        if r.index_name not in RANKED_INDICES:
            continue  # single-province or municipality-only lists: no ranking of provinces
        short, domain = RANKED_INDICES[r.index_name]
        what = f"{short}_{r.year}"
        note = f"{r.index_name}; domain {domain}"
        if str(r["rank"]).strip():
            value, unit = float(r["rank"]), "rank"
        else:  # a named group, order not given: tier 1 = top; 良好 and the CAC top-10
            # below its stated first (Zhejiang) are tier 2
            value, unit = 1.0, "tier"
            if r.grade == "良好" or r.index_name.startswith("CAC"):
                value = 2.0
        rows.append(_row(what, names[r.province], str(r.year), value, unit, r.source_url,
                         note, rank=True))  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def milestones_table(milestones: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for what, where, date, event in MILESTONES:
        m = _one(milestones, milestones.date.str.startswith(date)
                 & milestones.event.str.contains(event, regex=False), event)  # fmt: skip
        rows.append(_row(what, where, date, decimal_year(date), "calendar year", m.source_url,
                         m.event))  # fmt: skip
        if what == "pilots":  # one row per named pilot province, value 1
            names = province_names()
            listed = m.event.split(":")[-1].split()
            for zh in listed:
                rows.append(
                    _row(
                        "pilot_province",
                        names[zh],
                        date,
                        1.0,
                        "indicator",
                        m.source_url,
                        "named in " + m.event.split(";")[0],
                    )
                )
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["uncertainty"] = 0.0  # a date or a designation, not a measurement
    return out


def province_names() -> dict[str, str]:
    """Chinese short name (as in the sources) -> the English name of china_provinces.csv."""
    table = pd.read_csv(HERE.parent / "china_provinces.csv", comment="#")
    out = {}
    for en, zh in zip(table["name"], table["name_zh"], strict=True):
        short = re.sub(r"(维吾尔自治区|壮族自治区|回族自治区|自治区|省|市)$", "", zh)
        out[short] = en
    return out


def build() -> dict[str, pd.DataFrame]:
    src = HERE / "sources"
    read = {"dtype": str, "keep_default_na": False}
    counts = pd.read_csv(src / "platform_counts.csv", **read)
    milestones = pd.read_csv(src / "milestones.csv", **read)
    index = pd.read_csv(src / "provincial_index.csv", **read)
    return {
        "platforms.csv": platforms(counts, milestones),
        "rankings.csv": rankings(index, province_names()),
        "milestones.csv": milestones_table(milestones),
    }


def main() -> None:
    for name, frame in build().items():
        frame.to_csv(HERE / name, index=False, lineterminator="\n")
        print(f"{name}: {len(frame)} rows")


if __name__ == "__main__":
    main()
