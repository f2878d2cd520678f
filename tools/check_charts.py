"""Check that every Altair chart of the built book draws, offline, in a real browser.

Each page is opened in headless Debian ``chromium`` (file:// URL, no network needed)
and the DOM is dumped after the page's scripts ran. vega-embed leaves an ``<svg>`` or a
``<canvas>`` inside every chart container ``<div id="altair-viz-...">``; a chart that could not
load Vega shows "Error loading script" instead. The number of containers on a page must equal
the number of Altair outputs in the chapter's executed notebook, and every one must have drawn.

Every chart and every table of a page must also fit the text column of a 1280-pixel-wide window
(a laptop screen): 676 px, the 740-px article less its padding. A chart or table wider than its
column would be cut off behind a scroll bar. Before the DOM is dumped, a small script
(`WIDTH_PROBE`) added to a copy of the page measures each table, and each chart as Vega laid it
out plus vega-embed's action menu, and writes the widths into the DOM; a chart is named by the
number of the caption that follows it ("Fig 8.1 (book/08_attractors, chart 1) is 832 px wide").

Chosen pages (`PHONE_PAGES`, ``--phone``) are drawn again on a 390-px phone, in a frame because
headless chromium's window is never narrower than 500 px. There the book's style sheet
(tools/build_book.py, ``BOOK_CSS``) shrinks a chart to the column; the check fails when a chart is
cut, or shrunk below `MIN_SCALE` (half size, where its text can no longer be read). ``--report``
lists every chart with its widths instead of checking.

A static check (no browser) also reads every page: no ``<script src>`` from the internet, and
every Altair chart must find the Vega versions it asks for already loaded by the book's
``_static/vega-versions.js`` (otherwise it would fetch them from a CDN).

Usage (after ``python tools/build_book.py``)::

    python tools/check_charts.py [--out _build] [--phone book/08_attractors ...] [--report]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
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
WINDOW = (1280, 900)  # the window every chart and table must fit: a laptop screen
PHONE_WINDOW = (390, 900)  # a phone held upright
# chromium's headless window is never narrower than this: a narrower window is drawn as a frame of
# that width inside a page (`FRAME_PAGE`), whose layout follows the frame's width as on a phone
MIN_WINDOW = 500
#: Pages whose charts must also be whole on a phone (`PHONE_WINDOW`); ``--phone`` changes the list.
PHONE_PAGES = ("book/08_attractors", "book/10_information_plane")
WIDTH_PROBE_ID = "irn-widths"
#: On a phone a chart laid out for the 1280-px column is shrunk to fit (`tools/build_book.py`,
#: BOOK_CSS); below this scale its text is too small to read even with a phone's sharp screen.
MIN_SCALE = 0.5
# Once the page has drawn, measures every table and every Altair chart of the page's article
# against the article's content width and writes one line per element into the DOM:
#   "table;index;width;room;first header cells"
#   "chart;index;width;room;drawn;scale;figure"
# The room is the article's content width (its text column: 676 px of the 740-px article in a
# 1280-px window) right of the element's left edge. A chart's width is what it takes on the page:
# Vega's drawing as laid out plus vega-embed's action menu; drawn is what it takes after the book's
# style sheet shrank it to the column (a phone); scale is the drawn over the laid-out width of
# Vega's drawing (1 when it fits, below 1 when the page shrinks it); its figure is the
# number of the first caption (p.irn-caption, "Figure 8.1.") after it, or "" when none follows
# before the next chart.
WIDTH_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const lines = [];
  const content = (article) => {
    const style = getComputedStyle(article);
    const box = article.getBoundingClientRect();
    const left = box.left + parseFloat(style.paddingLeft) + parseFloat(style.borderLeftWidth);
    const right = box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
    return [left, right];
  };
  document.querySelectorAll("article table").forEach((table, index) => {
    const [left, right] = content(table.closest("article"));
    const box = table.getBoundingClientRect();
    const room = right - Math.max(box.left, left);
    const width = Math.max(box.width, table.scrollWidth);
    const head = Array.from(table.querySelectorAll("th")).map(th => th.textContent.trim())
      .filter(text => text).slice(0, 4).join(", ").replace(/;/g, ",");
    lines.push(["table", index, Math.ceil(width), Math.floor(room), head.slice(0, 80)].join(";"));
  });
  const charts = [];
  let pending = [];
  document.querySelectorAll('article [id^="%s"], article p.irn-caption').forEach(node => {
    if (node.tagName === "P") {
      const found = node.textContent.match(/^\\s*Figure\\s+([0-9A-Za-z.]+?)\\.?\\s/);
      pending.forEach(chart => chart.figure = found ? found[1] : "");
      pending = [];
      return;
    }
    pending.forEach(chart => chart.figure = "");
    const chart = {node: node, figure: ""};
    charts.push(chart);
    pending = [chart];
  });
  charts.forEach((chart, index) => {
    const node = chart.node;
    const [left, right] = content(node.closest("article"));
    const box = node.getBoundingClientRect();
    const drawing = node.querySelector("svg.marks, canvas.marks, svg, canvas");
    let laid = node.scrollWidth, drawn = node.scrollWidth, scale = 1;
    if (drawing) {
      const rect = drawing.getBoundingClientRect();
      const ratio = drawing.tagName === "CANVAS" ? (window.devicePixelRatio || 1) : 1;
      const natural = (parseFloat(drawing.getAttribute("width")) || rect.width * ratio) / ratio;
      const menu = node.querySelector("details");
      const end = Math.max(rect.right, menu ? menu.getBoundingClientRect().right : rect.right);
      drawn = end - box.left;
      laid = drawn + natural - rect.width;
      scale = natural > 0 ? rect.width / natural : 1;
    }
    const room = right - Math.max(box.left, left);
    lines.push(["chart", index, Math.ceil(laid), Math.floor(room), Math.ceil(drawn), scale.toFixed(2),
                chart.figure].join(";"));
  });
  const out = document.createElement("pre");
  out.id = "%s";
  out.textContent = lines.join("\\n");
  document.body.appendChild(out);
  if (window.parent !== window) {
    window.parent.postMessage(out.textContent, "*");
  }
}, 200));
</script>""" % (CHART_ID_PREFIX, WIDTH_PROBE_ID)


@dataclass(frozen=True)
class Width:
    """One measured table or chart of a page (`WIDTH_PROBE`).

    ``kind`` is "table" or "chart"; ``index`` its 0-based position among the page's tables or
    charts; ``width`` the pixels it is laid out to take (a chart: Vega's layout plus the action
    menu); ``room`` the pixels the text column leaves it; ``drawn`` the pixels it takes on the
    page (a chart wider than its column is shrunk to fit by the book's style sheet); ``scale``
    the drawn over the laid-out width (1 for tables); ``name`` the table's first header cells or
    the chart's figure number ("" when it has no caption).
    """

    kind: str
    index: int
    width: int
    room: int
    drawn: int
    scale: float
    name: str

    @property
    def fits(self) -> bool:
        """Laid out within the column: shown at full size, with no scroll bar."""
        return self.width <= self.room

    @property
    def whole(self) -> bool:
        """Drawn within the column and shrunk to no less than `MIN_SCALE` of its size."""
        return self.drawn <= self.room and self.scale >= MIN_SCALE

    def label(self, page: str) -> str:
        """How a reader finds it: "Fig 8.1 (book/08_attractors, chart 1)"."""
        where = f"{self.kind} {self.index + 1}"
        if self.kind == "chart" and self.name:
            return f"Fig {self.name} ({page}, {where})"
        if self.kind == "table" and self.name:
            return f"{page}: {where} ({self.name})"
        return f"{page}: {where}"


# A page that shows the probed page in a frame of the given width and copies what the probe
# measured (sent by postMessage) into its own DOM, where --dump-dom sees it.
FRAME_PAGE = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="%s" style="width:%dpx;height:%dpx;border:0"></iframe>
<script>
window.addEventListener("message", (event) => {
  const out = document.createElement("pre");
  out.id = "%s";
  out.textContent = event.data;
  document.body.appendChild(out);
});
</script></body></html>"""
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


def dump_dom(page: Path, chromium: str | None = None, profile: Path | None = None,
             window: tuple[int, int] = WINDOW) -> str:
    """The DOM of ``page`` after headless chromium ran its scripts (10 s of virtual time) in a
    ``window``-sized window (`WINDOW` by default), with the widths `WIDTH_PROBE` measured in it.

    The probe goes into a hidden copy of the page beside it (so its relative links still work),
    which is removed afterwards. A window narrower than chromium's `MIN_WINDOW` (a phone) shows
    the page in a frame of that width (`FRAME_PAGE`): the DOM returned is then the frame's host,
    which holds the probe's measurements but not the page itself."""
    chromium = chromium or find_chromium()
    html = page.read_text(encoding="utf-8")
    cut = html.rfind("</body>")
    probed = page.with_name(f".irn-probe-{page.name}")
    probed.write_text(html[:cut] + WIDTH_PROBE + html[cut:] if cut >= 0 else html + WIDTH_PROBE,
                      encoding="utf-8")
    opened, size = probed, window
    if window[0] < MIN_WINDOW:
        opened = page.with_name(f".irn-frame-{page.name}")
        opened.write_text(FRAME_PAGE % (probed.name, window[0], window[1], WIDTH_PROBE_ID),
                          encoding="utf-8")
        size = (MIN_WINDOW, window[1])
    try:
        with tempfile.TemporaryDirectory(prefix="irn-chromium-") as scratch:
            command = [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile or scratch}",
                f"--window-size={size[0]},{size[1]}",
                f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
                "--dump-dom",
                opened.resolve().as_uri(),
            ]
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False
            )
    finally:
        probed.unlink(missing_ok=True)
        opened.unlink(missing_ok=True)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(
            f"chromium failed on {page} (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return result.stdout


def measure(dom: str) -> list[Width] | None:
    """The tables and charts `WIDTH_PROBE` measured in a dumped page, or None when it did not run."""
    probe = BeautifulSoup(dom, "html.parser").find(id=WIDTH_PROBE_ID)
    if probe is None:
        return None
    widths = []
    for line in filter(None, probe.get_text().splitlines()):
        kind, index, width, room, rest = line.split(";", 4)
        if kind == "chart":
            drawn, scale, name = rest.split(";", 2)
        else:
            drawn, scale, name = width, "1", rest
        widths.append(Width(kind, int(index), int(width), int(room), int(drawn), float(scale), name))
    return widths


def dom_problems(dom: str, expected_charts: int, label: str, window: tuple[int, int] = WINDOW,
                 tables: bool = True) -> list[str]:
    """What is wrong with one dumped page: missing, undrawn or failed charts, and charts (and,
    with ``tables``, tables) wider than the text column of the ``window`` the page was dumped in."""
    problems = []
    soup = BeautifulSoup(dom, "html.parser")
    containers = [
        div for div in soup.find_all("div") if div.get("id", "").startswith(CHART_ID_PREFIX)
    ]
    drawn = [div for div in containers if div.find(["svg", "canvas"]) is not None]
    if window[0] < MIN_WINDOW:  # the page was in a frame: only its measurements came back
        measured = measure(dom)
        containers = drawn = [w for w in measured or [] if w.kind == "chart"]
    if len(containers) != expected_charts:
        problems.append(
            f"{label}: the notebook has {expected_charts} chart(s), the page has "
            f"{len(containers)} chart container(s)"
        )
    if len(drawn) != len(containers):
        problems.append(
            f"{label}: {len(containers) - len(drawn)} of {len(containers)} chart(s) did not draw"
        )
    widths = measure(dom)
    if widths is None:
        problems.append(f"{label}: the width probe did not run")
        widths = []
    phone = window[0] < MIN_WINDOW
    for item in widths:
        if item.kind == "table" and not tables:
            continue
        if phone and not item.whole:
            state = ("is cut" if item.drawn > item.room else
                     f"is shrunk to {item.scale:.0%} (at least {MIN_SCALE:.0%} needed to read it)")
            problems.append(
                f"{item.label(label)} {state} on a {window[0]} px phone: laid out {item.width} px "
                f"wide for a {item.room} px column: fewer panels per row "
                f"(irn.plots.style.grid(..., max_columns=2))"
            )
        elif not phone and not item.fits:
            fix = ("show fewer or narrower columns" if item.kind == "table" else
                   "wrap its panels into rows or size them from the column (irn.plots.style.grid)")
            problems.append(
                f"{item.label(label)} is {item.width} px wide, wider than the {item.room} px text "
                f"column of a {window[0]} px window: {fix}"
            )
    probe = soup.find(id=WIDTH_PROBE_ID)
    if probe is not None:
        probe.extract()  # its text is not the page's
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


def book_pages(out: Path) -> dict[str, Path | None]:
    """Every page of ``out/html/book`` (``"book/01_tasks"``, ``"book/reference/irn.info"``, …)
    mapped to its executed notebook in ``out/src/book``, or None for a plain page."""
    html_dir, pages = out / "html", {}
    for page in sorted((html_dir / "book").rglob("*.html")):
        name = page.relative_to(html_dir).with_suffix("").as_posix()
        notebook = out / "src" / f"{name}.ipynb"
        pages[name] = notebook if notebook.exists() else None
    return pages


def check_built_book(out: Path, pages: dict[str, Path | None] | None = None,
                     phone_pages: tuple[str, ...] | list[str] = PHONE_PAGES) -> list[str]:
    """Static and browser checks of a book built by tools/build_book.py into ``out``.

    ``pages`` maps a page's path under ``out/html`` without suffix (``"book/01_tasks"``) to its
    executed notebook, or None for a plain page; by default every page (`book_pages`). Every page
    is drawn in a `WINDOW`-sized window (charts draw, charts and tables fit the column); the
    pages named in ``phone_pages`` are drawn again in a `PHONE_WINDOW` (every chart is whole).
    """
    html_dir = out / "html"
    pages = book_pages(out) if pages is None else pages
    unknown = sorted(set(phone_pages) - set(pages))
    problems = static_problems(html_dir) + [f"{name}: no such page for the phone check" for name in unknown]
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
            if name in phone_pages:
                dom = dump_dom(page, chromium, Path(profile), window=PHONE_WINDOW)
                problems += dom_problems(dom, expected, name, window=PHONE_WINDOW, tables=False)
    return problems


def chart_report(out: Path, window: tuple[int, int] = WINDOW,
                 pages: dict[str, Path | None] | None = None) -> list[tuple[str, Width]]:
    """Every chart of the built book with its measured width in a ``window``-sized window, page by
    page (for a report of which charts do not fit, and by how much)."""
    html_dir = out / "html"
    pages = book_pages(out) if pages is None else pages
    rows = []
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="irn-chromium-profile-") as profile:
        for name in pages:
            page = html_dir / f"{name}.html"
            if page.exists():
                widths = measure(dump_dom(page, chromium, Path(profile), window=window)) or []
                rows += [(name, item) for item in widths if item.kind == "chart"]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("_build"), help="build folder")
    parser.add_argument("--phone", nargs="*", default=list(PHONE_PAGES), metavar="PAGE",
                        help="pages whose charts must be whole on a 390-px phone "
                             f"(default: {' '.join(PHONE_PAGES)}; none: --phone with no page)")
    parser.add_argument("--report", action="store_true",
                        help="only list every chart with its width and the room it has "
                             "(1280-px window, and the phone window for the --phone pages)")
    args = parser.parse_args(argv)
    if not (args.out / "html").is_dir():
        print(f"error: {args.out / 'html'} does not exist: run tools/build_book.py first",
              file=sys.stderr)
        return 2
    if args.report:
        for window, pages in ((WINDOW, None), (PHONE_WINDOW, {p: None for p in args.phone})):
            rows = chart_report(args.out, window, pages)
            phone = window[0] < MIN_WINDOW
            bad = [(name, item) for name, item in rows if not (item.whole if phone else item.fits)]
            what = "not whole (or drawn below {:.0%})".format(MIN_SCALE) if phone else "wider than the text column"
            print(f"{window[0]} px window: {len(bad)} of {len(rows)} charts {what}")
            for name, item in rows:
                mark = ("ok   " if (item.whole if phone else item.fits) else "WIDE " if not phone
                        else "CUT  " if item.drawn > item.room else "SMALL")
                print(f"  {mark} {item.label(name)}: laid out {item.width} px, room {item.room} px, "
                      f"drawn {item.drawn} px at {item.scale:.0%}")
        return 0
    problems = check_built_book(args.out, phone_pages=args.phone)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"all charts in {args.out / 'html'} drew and fit the text column")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
