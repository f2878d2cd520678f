"""Check that every Altair chart of the built book draws, offline, in a real browser.

Each chapter page is opened in headless Debian ``chromium`` (file:// URL, no network needed)
and the DOM is dumped after the page's scripts ran. vega-embed leaves an ``<svg>`` or a
``<canvas>`` inside every chart container ``<div id="altair-viz-...">``; a chart that could not
load Vega shows "Error loading script" instead. The number of containers on a page must equal
the number of Altair outputs in the chapter's executed notebook, and every one must have drawn.

Every table of a page must also fit the text column of a 1280-pixel-wide window (a laptop
screen): a table wider than its column would be cut off or scroll sideways. Before the DOM is
dumped, a small script (`TABLE_PROBE`) added to a copy of the page measures each table and writes
the widths into the DOM.

A static check (no browser) also reads every page: no ``<script src>`` from the internet, and
every Altair chart must find the Vega versions it asks for already loaded by the book's
``_static/vega-versions.js`` (otherwise it would fetch them from a CDN).

Usage (after ``python tools/build_book.py``)::

    python tools/check_charts.py [--out _build]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

CHART_ID_PREFIX = "altair-viz-"
LOAD_ERROR = "Error loading script"
JS_ERROR = "Javascript Error"
VIRTUAL_TIME_BUDGET_MS = 10_000
CHROMIUM_TIMEOUT_S = 180
REQUIREJS = {"require.js", "require.min.js"}
HIDDEN_OUTPUT_TAGS = {"remove-cell", "remove-output", "remove_cell", "remove_output"}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WINDOW = (1280, 900)  # the window the tables must fit: a laptop screen
TABLE_PROBE_ID = "irn-table-widths"
# Measures every table of the page's article against the article's own width once the page has
# drawn, and writes one line "index;table width;article width;first header cells" per table.
TABLE_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const lines = [];
  document.querySelectorAll("article table").forEach((table, index) => {
    const room = table.closest("article").getBoundingClientRect().width;
    const width = Math.max(table.getBoundingClientRect().width, table.scrollWidth);
    const head = Array.from(table.querySelectorAll("th")).map(th => th.textContent.trim())
      .filter(text => text).slice(0, 4).join(", ");
    lines.push([index, Math.ceil(width), Math.floor(room), head.slice(0, 80)].join(";"));
  });
  const out = document.createElement("pre");
  out.id = "%s";
  out.textContent = lines.join("\\n");
  document.body.appendChild(out);
}, 200));
</script>""" % TABLE_PROBE_ID
# Altair's HTML output asks for each library with maybeLoadScript("vega-lite", "6.4.1").
_MAYBE_LOAD = re.compile(r'maybeLoadScript\("([\w-]+)",\s*"([^"]+)"\)')
_VERSIONS_JS = re.compile(r'"(vega_version|vegalite_version|vegaembed_version)"\s*:\s*"([^"]+)"')


def find_chromium() -> str:
    """Path of the chromium executable; a clear error when it is missing."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(
        "chromium not found on PATH: install Debian's chromium with `make chromium` "
        "(runs `apt-get install -y chromium`, as root)"
    )


def count_charts(notebook: Path) -> int:
    """Number of Altair charts the book shows for an executed notebook.

    Outputs of cells tagged remove-cell/remove-output are not shown, so they are not counted.
    """
    nb = nbformat.read(notebook, as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or HIDDEN_OUTPUT_TAGS & set(cell.metadata.get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if isinstance(html, list):
                html = "".join(html)
            count += html.count(f'id="{CHART_ID_PREFIX}')
    return count


def dump_dom(page: Path, chromium: str | None = None, profile: Path | None = None) -> str:
    """The DOM of ``page`` after headless chromium ran its scripts (10 s of virtual time) in a
    `WINDOW`-sized window, with the table widths of `TABLE_PROBE` in it.

    The probe goes into a hidden copy of the page beside it (so its relative links still work),
    which is removed afterwards."""
    chromium = chromium or find_chromium()
    html = page.read_text(encoding="utf-8")
    cut = html.rfind("</body>")
    probed = page.with_name(f".irn-probe-{page.name}")
    probed.write_text(html[:cut] + TABLE_PROBE + html[cut:] if cut >= 0 else html + TABLE_PROBE,
                      encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory(prefix="irn-chromium-") as scratch:
            command = [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile or scratch}",
                f"--window-size={WINDOW[0]},{WINDOW[1]}",
                f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
                "--dump-dom",
                probed.resolve().as_uri(),
            ]
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False
            )
    finally:
        probed.unlink(missing_ok=True)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(
            f"chromium failed on {page} (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return result.stdout


def dom_problems(dom: str, expected_charts: int, label: str) -> list[str]:
    """What is wrong with one dumped page: missing, undrawn or failed charts."""
    problems = []
    soup = BeautifulSoup(dom, "html.parser")
    containers = [
        div for div in soup.find_all("div") if div.get("id", "").startswith(CHART_ID_PREFIX)
    ]
    drawn = [div for div in containers if div.find(["svg", "canvas"]) is not None]
    if len(containers) != expected_charts:
        problems.append(
            f"{label}: the notebook has {expected_charts} chart(s), the page has "
            f"{len(containers)} chart container(s)"
        )
    if len(drawn) != len(containers):
        problems.append(
            f"{label}: {len(containers) - len(drawn)} of {len(containers)} chart(s) did not draw"
        )
    probe = soup.find(id=TABLE_PROBE_ID)
    if probe is None:
        problems.append(f"{label}: the table-width probe did not run")
    else:
        probe.extract()  # its text is not the page's
        for line in filter(None, probe.get_text().splitlines()):
            index, width, room, head = line.split(";", 3)
            if int(width) > int(room):
                problems.append(
                    f"{label}: table {int(index) + 1} ({head}) is {width} px wide, wider than the "
                    f"{room} px text column of a {WINDOW[0]} px window: show fewer or narrower columns"
                )
    text = soup.get_text(" ")
    for marker in (LOAD_ERROR, JS_ERROR):
        if marker in text:
            problems.append(f"{label}: the page shows {marker!r}")
    return problems


def shipped_versions(html_dir: Path) -> dict[str, str]:
    """The versions _static/vega-versions.js declares (``{"vegalite_version": "6.4.1", ...}``)."""
    path = html_dir / "_static" / "vega-versions.js"
    if not path.exists():
        return {}
    return dict(_VERSIONS_JS.findall(path.read_text()))


def static_problems(html_dir: Path) -> list[str]:
    """Pages that would fetch a script from the internet (no browser needed)."""
    problems = []
    versions = shipped_versions(html_dir)
    if not (html_dir / "_static" / "vega-bundle.js").exists():
        problems.append(f"{html_dir}/_static/vega-bundle.js is missing")
    for page in sorted(html_dir.rglob("*.html")):
        label = str(page.relative_to(html_dir))
        html = page.read_text(encoding="utf-8", errors="replace")
        soup = BeautifulSoup(html, "html.parser")
        for script in soup.find_all("script", src=True):
            if re.match(r"^(https?:)?//", script["src"]):
                problems.append(f"{label}: loads a script from the internet: {script['src']}")
        scripts = [s["src"] for s in soup.find_all("script", src=True)]
        if _MAYBE_LOAD.search(html):
            if any(src.split("?")[0].rsplit("/", 1)[-1] in REQUIREJS for src in scripts):
                problems.append(f"{label}: loads require.js, so Altair would use its CDN paths")
            for lib, version in set(_MAYBE_LOAD.findall(html)):
                key = f"{lib.replace('-', '', 1)}_version"
                if versions.get(key) != version:
                    problems.append(
                        f"{label}: a chart needs {lib} {version} but _static/vega-versions.js "
                        f"declares {versions.get(key)!r}, so it would load {lib} from a CDN"
                    )
            order = [src.split("?")[0].rsplit("/", 1)[-1] for src in scripts]
            if not (
                "vega-versions.js" in order
                and "vega-bundle.js" in order
                and order.index("vega-versions.js") < order.index("vega-bundle.js")
            ):
                problems.append(
                    f"{label}: has charts but does not load vega-versions.js then vega-bundle.js"
                )
    return problems


def check_built_book(out: Path, pages: dict[str, Path | None] | None = None) -> list[str]:
    """Static and browser checks of a book built by tools/build_book.py into ``out``.

    ``pages`` maps a page's path under ``out/html`` without suffix (``"book/01_tasks"``) to its
    executed notebook, or None for a plain page; by default every page of ``out/html/book`` and
    the executed notebooks found in ``out/src/book``.
    """
    html_dir = out / "html"
    if pages is None:
        pages = {}
        for page in sorted((html_dir / "book").glob("*.html")):
            notebook = out / "src" / "book" / f"{page.stem}.ipynb"
            pages[f"book/{page.stem}"] = notebook if notebook.exists() else None
    problems = static_problems(html_dir)
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="irn-chromium-profile-") as profile:
        for name, notebook in pages.items():
            page = html_dir / f"{name}.html"
            if not page.exists():
                problems.append(f"{name}: {page} was not built")
                continue
            expected = count_charts(notebook) if notebook else 0
            dom = dump_dom(page, chromium, Path(profile))
            problems += dom_problems(dom, expected, name)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("_build"), help="build folder")
    args = parser.parse_args(argv)
    if not (args.out / "html").is_dir():
        print(f"error: {args.out / 'html'} does not exist: run tools/build_book.py first",
              file=sys.stderr)
        return 2
    problems = check_built_book(args.out)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"all charts in {args.out / 'html'} drew")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
