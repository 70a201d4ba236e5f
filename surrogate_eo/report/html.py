"""The report as one self-contained HTML file: inline CSS, figures as base64 PNG, no external resources.

A tiny inline script records, once the page has loaded, how many images
decoded (``naturalWidth > 0``) and how many script or resource errors
occurred, in the ``data-*`` attributes and the text of the
``#render-check`` element (the footer), so a headless browser's
``--dump-dom`` shows whether the page rendered completely.
"""
from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape
from typing import Any

from .elements import STATUS_WORD, Block, Section

_CSS = """
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --pass: #1e7b34; --fail: #b3261e;
        --inconclusive: #b26a00; --info: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: var(--fg);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 26px 0 6px; }
p.meta { color: var(--muted); margin: 0 0 16px; }
nav { background: #f0f2f5; padding: 10px 16px; border-radius: 6px; margin: 12px 0 20px; }
nav ol { margin: 4px 0; padding-left: 20px; columns: 2; }
nav a { color: var(--info); text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; width: auto; max-width: 100%;
        display: block; overflow-x: auto; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td code { font-size: 11px; word-break: break-all; }
tr.fail td:first-child, tr.fail td.status, tr.unfaithful td:first-child, tr.unfaithful td.status {
  color: var(--fail); font-weight: 600; }
tr.pass td.status, tr.faithful td.status { color: var(--pass); font-weight: 600; }
tr.inconclusive td.status { color: var(--inconclusive); font-weight: 600; }
tr.fail, tr.unfaithful { background: #fdf0ef; }
figure { margin: 12px 0 24px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.callout { border-left: 5px solid var(--info); background: #eef4fb; padding: 8px 14px; margin: 10px 0;
           border-radius: 0 6px 6px 0; }
.callout.pass, .callout.faithful { border-color: var(--pass); background: #edf7ef; }
.callout.fail, .callout.unfaithful { border-color: var(--fail); background: #fdf0ef; }
.callout.inconclusive { border-color: var(--inconclusive); background: #fff6e5; }
.callout b { margin-right: 6px; }
ul.reasons li { margin-bottom: 4px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; }
"""

_SCRIPT_HEAD = """(function () {
  var errors = [];
  window.__reportErrors = errors;
  window.addEventListener('error', function (e) {
    errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || 'error'));
  }, true);
})();"""

_SCRIPT_CHECK = """(function () {
  function check() {
    var imgs = document.images, ok = 0, broken = 0;
    for (var i = 0; i < imgs.length; i++) {
      if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } else { broken++; }
    }
    var el = document.getElementById('render-check');
    var errors = window.__reportErrors || [];
    el.setAttribute('data-images-total', String(imgs.length));
    el.setAttribute('data-images-loaded', String(ok));
    el.setAttribute('data-images-broken', String(broken));
    el.setAttribute('data-errors', String(errors.length));
    el.setAttribute('data-status', 'done');
    el.textContent = 'Rendered: ' + ok + ' of ' + imgs.length + ' figures loaded, ' + broken + ' broken, ' +
      errors.length + ' page errors.';
  }
  if (document.readyState === 'complete') { check(); } else { window.addEventListener('load', check); }
})();"""


def _is_num(cell: str) -> bool:
    c = cell.replace(",", "").replace("%", "").replace("±", " ").replace("pp", "").split(" ")[0].strip()
    try:
        float(c)
        return True
    except ValueError:
        return c == "n/a"


def _table(b: Block) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in b.columns)
    body = []
    for i, row in enumerate(b.rows):
        status = b.statuses[i] if i < len(b.statuses) else ""
        cells = []
        for j, cell in enumerate(row):
            cls = []
            if j in b.code_columns:
                cells.append(f"<td><code>{escape(cell)}</code></td>")
                continue
            if cell.upper() in STATUS_WORD.values() or cell == "not judged":
                cls.append("status")
            elif _is_num(cell):
                cls.append("num")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            cells.append(f"<td{attr}>{escape(cell)}</td>")
        tr_cls = f' class="{status}"' if status else ""
        body.append(f"<tr{tr_cls}>{''.join(cells)}</tr>")
    cap = f"<caption>{escape(b.text)}</caption>" if b.text else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _block(b: Block, fig_no: list[int]) -> str:
    if b.kind == "p":
        return f"<p>{escape(b.text)}</p>"
    if b.kind == "table":
        return _table(b)
    if b.kind == "list":
        return '<ul class="reasons">' + "".join(f"<li>{escape(x)}</li>" for x in b.items) + "</ul>"
    if b.kind == "callout":
        word = STATUS_WORD.get(b.status, "NOTE")
        return f'<div class="callout {escape(b.status)}"><b>{word}</b>{escape(b.text)}</div>'
    if b.kind == "figure" and b.figure is not None:
        fig_no[0] += 1
        f = b.figure
        src = "data:image/png;base64," + base64.b64encode(f.png).decode("ascii")
        return (f'<figure id="fig-{escape(f.name)}"><img src="{src}" alt="{escape(f.title)}">'
                f"<figcaption><b>Figure {fig_no[0]}.</b> {escape(f.title)}. {escape(f.caption)}</figcaption></figure>")
    raise ValueError(f"unknown block kind {b.kind!r}")  # pragma: no cover - layout only makes the kinds above


def render_html(sections: Sequence[Section], meta: dict[str, Any]) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    fig_no = [0]
    toc = "".join(f'<li><a href="#{escape(s.anchor)}">{escape(s.title)}</a></li>' for s in sections if s.level == 2)
    parts = []
    for s in sections:
        tag = f"h{s.level}"
        parts.append(f'<section id="{escape(s.anchor)}"><{tag}>{escape(s.title)}</{tag}>')
        parts += [_block(b, fig_no) for b in s.blocks]
        parts.append("</section>")
    title = escape(meta.get("title", "Surrogate quality report"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n<style>{_CSS}</style>\n<script>{_SCRIPT_HEAD}</script>\n</head>\n<body>\n<main>\n"
        f"<h1>{title}</h1>\n<p class=\"meta\">surrogate-eo {escape(str(meta.get('version', '')))} · created "
        f"{escape(str(meta.get('created', '')))} (UTC) · space {escape(str(meta.get('space', '')))}</p>\n"
        f"<nav><b>Contents</b><ol>{toc}</ol></nav>\n" + "\n".join(parts)
        + f"\n<footer id=\"render-check\" data-status=\"pending\" data-figures=\"{fig_no[0]}\">"
          "The figure check runs when the page has loaded.</footer>\n"
        f"<script>{_SCRIPT_CHECK}</script>\n</main>\n</body>\n</html>\n"
    )


__all__ = ["render_html"]
