"""Checks shared by the browser tests: target sizes, sideways scrolling, and axe-core.

axe-core comes from the npm registry, pinned in tests/a11y/package-lock.json; `make test` installs
it (`npm ci` in tests/a11y). It is added to a page as an init script (the DevTools protocol), which
the app's strict Content-Security-Policy does not block, unlike a <script> tag: the pages are
checked exactly as they are served, CSP included.
"""
from pathlib import Path

SMALLEST_TARGET = 24  # px, WCAG 2.2 target size (minimum)
AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")


def _targets_too_small(page):
    return page.evaluate("""(min) => [...document.querySelectorAll('a, button, input, select, textarea, summary')]
        .filter(el => el.offsetParent !== null && el.type !== 'hidden')
        .map(el => { const r = el.getBoundingClientRect(); return {t: el.outerHTML.slice(0, 80), w: r.width, h: r.height}; })
        .filter(r => r.w < min || r.h < min)""", SMALLEST_TARGET)


def _overflows(page):
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def add_axe(context) -> None:
    """Make axe-core available in every page the context opens from now on."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: `make test` installs axe-core (npm ci in tests/a11y).")
    context.add_init_script(path=str(AXE))


def axe_violations(page, impacts=FAILING_IMPACTS) -> list[dict]:
    """axe-core's violations on the page as it is now, of the given impacts, in a short form."""
    return page.evaluate("""async (impacts) => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => impacts.includes(v.impact)).map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 4).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                                   why: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 300)})),
            count: v.nodes.length}));
    }""", list(impacts))


def describe_violations(found: dict[str, list[dict]]) -> str:
    """{page: violations} as readable lines for an assertion message."""
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: [{v['impact']}] {v['id']} — {v['help']} ({v['count']} element(s))")
            for n in v["nodes"]:
                lines.append(f"    {n['target']}: {n['html']}")
                if n["why"]:
                    lines.append(f"      {n['why']}")
    return "\n".join(lines)
