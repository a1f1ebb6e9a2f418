"""The *About* tab of the teaching page: what the model shows, how it works, things to notice
and to try (NetLogo's Info tab), from the scenario's ``description``, and how to use the page
and open it from students' machines."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..params import Scenario

HOW_IT_WORKS = """
Each marker (on a map of real counties: each county) is a county-level **local
government**; each needs the same set of digital **services**. A government offers a
service once it has it, by one of four routes. The marker's shape shows the route most of
its services took (on real counties: a pattern of the same small shapes over the county,
and its outline's colour); the fill shows how many services it offers, and once the run
has ended, the year it reached half of them (dark: early, grey: not yet), which is where
the rules differ:

* **own development** (▲) — it builds the service itself (likelier the richer it is);
* **peer reuse** (●) — it copies a neighbour's solution (likelier the more neighbours have one);
* **catalogue** (■) — it takes a solution the province recognised and listed;
* **contractor** (◆) — the province's general contractor deploys a standard module.

**Grassroots rule** (Zhejiang): governments develop and copy; after a lag the province
recognises the best solution of each service, lists it in a catalogue and promotes it.
**Contractor rule** (Guangdong's EPC model): one contractor first builds a platform, then
one module after another, and deploys them at a fixed number of deployments per year; local
activity is crowded out, and when the platform fails every service it runs goes dark at once
(red crosses on the map, red bands on the coverage plot). **Hybrid rule**: grassroots
innovation, and each recognised solution is standardised and deployed by the contractor.
"""

HOW_TO_USE = """
Pick a rule, or **side by side** to run all three on the same random numbers. **▶** plays,
**Step** advances one time step, **To the end** jumps to the last year, **Reset** starts
again. Moving a slider or changing the seed restarts the run at year 0 with the new value.
The curves show coverage (how much of the province is served), **duplicate developments**
(the same service built again where a solution already existed) and cumulative **cost**.
"""

IN_CLASS = """
Start the page with `sim viz --host 0.0.0.0` on the teacher's machine: the terminal then
prints the addresses students type (such as `http://192.168.1.20:8765/?join=...`, the
machine's address on the classroom network with the class's join token, without which the
page is refused; `127.0.0.1` only works on the teacher's own machine) and a QR code of the
first one for phones and tablets; `sim viz --class` lets each student play a county.
Students must be on the same network, and the machine's firewall must let the port in.
Each browser gets its own run: students never step each other's model. No internet is
needed. Hover over a local government on the map to see its name and services.
"""

_SECTION = re.compile(r"(What it shows|How it works|Things to notice|Things to try)\s*:", re.I)


def about_sections(description: str) -> dict[str, str]:
    """Split a scenario description into NetLogo-style sections.

    Text before the first heading is "What is it?"; headings recognised: "What it shows:",
    "How it works:", "Things to notice:", "Things to try:" (case-insensitive).
    """
    text = " ".join(description.split())
    parts = _SECTION.split(text)
    sections = {"What is it?": parts[0].strip()}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.strip()
        sections[heading.strip().capitalize()] = body[:1].upper() + body[1:]
    return {k: v for k, v in sections.items() if v}


def _bullets(text: str) -> str:
    """Turn "a; b; c." into a Markdown list (Things to try are ;-separated in scenarios)."""
    items = [i.strip().rstrip(".") for i in text.split(";") if i.strip()]
    if len(items) < 2:
        return text
    return "\n".join(f"* {_code_keys(i)}" for i in items)


def _code_keys(text: str) -> str:
    """Set dotted parameter keys (support.catalog_visibility) in code type."""
    return re.sub(r"\b([a-z_]+\.[a-z_]+)\b", r"`\1`", text)


def about_markdown(scenario: Scenario, *, urls: Sequence[str] = ()) -> str:
    """The About tab; ``urls``: the addresses students can open (``sim viz`` knows them)."""
    sections = about_sections(scenario.description)
    out = [f"## {scenario.name}: what is it?", sections.pop("What is it?", "")]
    if "What it shows" in sections:
        out += ["### What it shows", sections.pop("What it shows")]
    out += ["### How it works", sections.pop("How it works", HOW_IT_WORKS.strip())]
    if "Things to notice" in sections:
        out += ["### Things to notice", _bullets(sections.pop("Things to notice"))]
    if "Things to try" in sections:
        out += ["### Things to try", _bullets(sections.pop("Things to try"))]
    for heading, body in sections.items():
        out += [f"### {heading}", body]
    out += ["### How to use this page", HOW_TO_USE.strip()]
    out += ["### Opening this page in a classroom", IN_CLASS.strip()]
    if urls:
        out += ["Students open: " + ", ".join(f"**{url}**" for url in urls)]
    out += [
        "### Credits",
        "reform-diffusion-sim; the rules follow Qi Zhiwei and Zhang Liying (2025), "
        "*Practical Experience and Reform Implications of High-quality Construction of "
        "Digital Government*. The full model description is docs/ODD.md. Built with Mesa "
        "and Solara.",
    ]
    return "\n\n".join(out)


def about_html(scenario: Scenario, *, urls: Sequence[str] = ()) -> str:
    """:func:`about_markdown` as HTML, converted here (python-markdown) rather than by
    Solara's ``Markdown`` component, which loads KaTeX (math) from the asset server; the
    offline assets have no KaTeX, so every visit of the tab logged two 404s and a page error.
    The text has no math."""
    import markdown

    return str(markdown.markdown(about_markdown(scenario, urls=urls), extensions=["extra"]))
