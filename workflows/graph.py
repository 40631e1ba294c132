"""Draw a workflow as Mermaid, Graphviz DOT or a self-contained SVG (pure Python)."""

from __future__ import annotations

import unicodedata
from collections import deque
from dataclasses import dataclass
from xml.sax.saxutils import escape

from workflows.model import Definition

#: Fill colour per state category, and for the current state.
FILLS = {
    "new": "#e3f2fd",
    "active": "#e8f5e9",
    "waiting": "#fff8e1",
    "done": "#eceff1",
    "cancelled": "#fbe9e7",
}
CURRENT_FILL = "#ffd54f"
CURRENT_STROKE = "#e65100"
FONT_FAMILY = "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"

_FONT_SIZE = 13
_LABEL_FONT_SIZE = 11
_NODE_HEIGHT = 40
_ROW_GAP = 36
_COLUMN_GAP = 110
_MARGIN = 30


def ranks(definition: Definition) -> dict[str, int]:
    """Rank states by the fewest transitions from the initial state (BFS).

    States that cannot be reached get one rank past the last.
    """
    result: dict[str, int] = {}
    if definition.initial in definition.states:
        result[definition.initial] = 0
        queue = deque([definition.initial])
        while queue:
            state = queue.popleft()
            for transition in definition.transitions_from(state):
                if transition.target in definition.states and transition.target not in result:
                    result[transition.target] = result[state] + 1
                    queue.append(transition.target)
    last = max(result.values(), default=-1)
    for name in definition.states:
        result.setdefault(name, last + 1)
    return result


def _edges(definition: Definition, locale: str) -> dict[tuple[str, str], list[str]]:
    """Return (source, target) -> transition labels, in file order."""
    edges: dict[tuple[str, str], list[str]] = {}
    for transition in definition.transitions:
        label = transition.labels.text(locale)
        for source in transition.sources:
            labels = edges.setdefault((source, transition.target), [])
            if label not in labels:
                labels.append(label)
    return edges


# -- Mermaid ---------------------------------------------------------------------------


_MERMAID_ESCAPES = str.maketrans(
    {
        "#": "#35;",
        '"': "#quot;",
        ";": "#59;",
        ":": "#58;",
        "<": "#lt;",
        ">": "#gt;",
        "\n": " ",
    }
)


def _mermaid_text(text: str) -> str:
    return text.translate(_MERMAID_ESCAPES)


def to_mermaid(definition: Definition, current: str | None = None, locale: str = "en") -> str:
    """Return a Mermaid ``stateDiagram-v2``; the ``current`` state gets class ``current``."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for state in definition.states.values():
        lines.append(f'    state "{_mermaid_text(state.labels.text(locale))}" as {state.name}')
    lines.append(f"    [*] --> {definition.initial}")
    for (source, target), labels in _edges(definition, locale).items():
        lines.append(f"    {source} --> {target} : {_mermaid_text(' / '.join(labels))}")
    for state in definition.states.values():
        if state.is_terminal:
            lines.append(f"    {state.name} --> [*]")
    for category, fill in FILLS.items():
        lines.append(f"    classDef {category} fill:{fill}")
    lines.append(
        f"    classDef current fill:{CURRENT_FILL},stroke:{CURRENT_STROKE},stroke-width:3px"
    )
    for state in definition.states.values():
        lines.append(f"    class {state.name} {state.category}")
    if current is not None and current in definition.states:
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


# -- DOT -------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(definition: Definition, current: str | None = None, locale: str = "en") -> str:
    """Return a Graphviz DOT digraph; the ``current`` state is filled and outlined."""
    lines = [
        f"digraph {_dot_text(definition.name)} {{",
        "  rankdir=LR;",
        f"  label={_dot_text(definition.labels.text(locale))};",
        f'  node [shape=box, style="rounded,filled", fontname={_dot_text(FONT_FAMILY)}];',
        f"  edge [fontname={_dot_text(FONT_FAMILY)}, fontsize=10];",
    ]
    for state in definition.states.values():
        attrs = [f"label={_dot_text(state.labels.text(locale))}"]
        if state.name == current:
            attrs += [
                f'fillcolor="{CURRENT_FILL}"',
                f'color="{CURRENT_STROKE}"',
                "penwidth=3",
                'class="current"',
            ]
        else:
            attrs.append(f'fillcolor="{FILLS.get(state.category, "#ffffff")}"')
        if state.is_terminal:
            attrs.append("peripheries=2")
        lines.append(f"  {_dot_text(state.name)} [{', '.join(attrs)}];")
    for (source, target), labels in _edges(definition, locale).items():
        label = _dot_text(" / ".join(labels))
        lines.append(f"  {_dot_text(source)} -> {_dot_text(target)} [label={label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- SVG -------------------------------------------------------------------------------


def text_width(text: str, font_size: float) -> float:
    """Estimate the drawn width of ``text``: wide (CJK) characters count as a full em."""
    width = 0.0
    for char in text:
        wide = unicodedata.east_asian_width(char) in {"W", "F"}
        width += font_size if wide else font_size * 0.6
    return width


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _layout(definition: Definition, locale: str) -> tuple[dict[str, _Box], float, float]:
    rank_of = ranks(definition)
    columns: dict[int, list[str]] = {}
    for name in definition.states:
        columns.setdefault(rank_of[name], []).append(name)
    boxes: dict[str, _Box] = {}
    x = float(_MARGIN)
    tallest = 0.0
    for rank in sorted(columns):
        names = columns[rank]
        width = max(
            text_width(definition.states[n].labels.text(locale), _FONT_SIZE) + 28 for n in names
        )
        width = max(width, 90.0)
        y = float(_MARGIN + 30)
        for name in names:
            boxes[name] = _Box(x, y, width, _NODE_HEIGHT)
            y += _NODE_HEIGHT + _ROW_GAP
        tallest = max(tallest, y)
        x += width + _COLUMN_GAP
    return boxes, x - _COLUMN_GAP + _MARGIN, tallest + _MARGIN + 40


def _edge_path(a: _Box, b: _Box, index: int, forward: bool) -> tuple[str, tuple[float, float]]:
    """Return an SVG path and the point where its label goes."""
    if a == b:
        x1, y1 = a.cx - 12, a.y
        x2, y2 = a.cx + 12, a.y
        lift = 34
        path = (
            f"M {_fmt(x1)} {_fmt(y1)} C {_fmt(x1 - 20)} {_fmt(y1 - lift)} "
            f"{_fmt(x2 + 20)} {_fmt(y2 - lift)} {_fmt(x2)} {_fmt(y2)}"
        )
        return path, (a.cx, a.y - lift + 4)
    if forward:
        x1, y1 = a.x + a.width, a.cy
        x2, y2 = b.x, b.cy
        dx = max((x2 - x1) / 2, 30)
        c1 = (x1 + dx, y1)
        c2 = (x2 - dx, y2)
    else:
        x1, y1 = a.cx, a.y + a.height
        x2, y2 = b.cx, b.y + b.height
        drop = 40 + 14 * (index % 4)
        bottom = max(y1, y2) + drop
        c1 = (x1, bottom)
        c2 = (x2, bottom)
    path = (
        f"M {_fmt(x1)} {_fmt(y1)} C {_fmt(c1[0])} {_fmt(c1[1])} "
        f"{_fmt(c2[0])} {_fmt(c2[1])} {_fmt(x2)} {_fmt(y2)}"
    )
    # Point of the cubic Bézier at t = 0.5.
    mx = (x1 + 3 * c1[0] + 3 * c2[0] + x2) / 8
    my = (y1 + 3 * c1[1] + 3 * c2[1] + y2) / 8
    return path, (mx, my)


def to_svg(definition: Definition, current: str | None = None, locale: str = "en") -> str:
    """Return a standalone SVG drawing in layered columns; ``current`` has class ``current``."""
    boxes, width, height = _layout(definition, locale)
    rank_of = ranks(definition)
    edges = _edges(definition, locale)
    # Back edges curve below the boxes; leave room for them.
    height += 60
    title = definition.labels.text(locale)
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_fmt(width)}" height="{_fmt(height)}" '
        f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
        f'font-family="{_attr(FONT_FAMILY)}" font-size="{_FONT_SIZE}" '
        f'data-workflow="{_attr(definition.name)}" data-version="{definition.version}">',
        f"<title>{escape(title)} v{definition.version}</title>",
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#546e7a"/></marker>'
        "</defs>",
        f'<text x="{_MARGIN}" y="{_MARGIN}" font-size="15" font-weight="bold">'
        f"{escape(title)}</text>",
        '<g class="edges" fill="none" stroke="#546e7a" stroke-width="1.3">',
    ]
    labels_out: list[str] = []
    for index, ((source, target), names) in enumerate(edges.items()):
        if source not in boxes or target not in boxes:
            continue
        forward = rank_of[target] > rank_of[source]
        path, (lx, ly) = _edge_path(boxes[source], boxes[target], index, forward)
        label = " / ".join(names)
        out.append(
            f'<path class="transition" data-from="{_attr(source)}" data-to="{_attr(target)}" '
            f'd="{path}" marker-end="url(#arrow)"><title>{escape(label)}</title></path>'
        )
        label_width = text_width(label, _LABEL_FONT_SIZE) + 6
        labels_out.append(
            f'<rect x="{_fmt(lx - label_width / 2)}" y="{_fmt(ly - 8)}" '
            f'width="{_fmt(label_width)}" height="14" fill="#ffffff" fill-opacity="0.85"/>'
            f'<text x="{_fmt(lx)}" y="{_fmt(ly + 3)}" text-anchor="middle" '
            f'font-size="{_LABEL_FONT_SIZE}" fill="#37474f">{escape(label)}</text>'
        )
    out.append("</g>")
    out.append('<g class="edge-labels">')
    out.extend(labels_out)
    out.append("</g>")
    out.append('<g class="states">')
    for name, box in boxes.items():
        state = definition.states[name]
        is_current = name == current
        classes = f"state {state.category}" + (" current" if is_current else "")
        fill = CURRENT_FILL if is_current else FILLS.get(state.category, "#ffffff")
        stroke = CURRENT_STROKE if is_current else "#607d8b"
        stroke_width = 3 if is_current else 1.2
        label = state.labels.text(locale)
        weight = ' font-weight="bold"' if is_current else ""
        out.append(
            f'<g class="{classes}" data-state="{_attr(name)}">'
            f"<title>{escape(name)} ({escape(state.category)})</title>"
            f'<rect x="{_fmt(box.x)}" y="{_fmt(box.y)}" width="{_fmt(box.width)}" '
            f'height="{_fmt(box.height)}" rx="10" ry="10" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{stroke_width}"/>'
            f'<text x="{_fmt(box.cx)}" y="{_fmt(box.cy + 4.5)}" text-anchor="middle"'
            f"{weight}>{escape(label)}</text>"
            "</g>"
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
