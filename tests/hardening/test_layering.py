"""docs/architecture.md's claim, checked: no module imports a higher layer at import time, nothing cycles."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "surrogate_eo"
#: Layer of each top-level module/package (docs/architecture.md, "Import layering"; the database sits beside
#: the records it stores, below campaign/collect.py that writes it and the surrogates that read it).
LAYER = {"errors": 0, "_io": 0, "tasks": 0, "_progress": 0, "_imports": 0, "spaces": 1, "networks": 2, "records": 2,
         "reference": 2, "data": 3, "training": 4, "campaign": 5, "database": 2, "surrogates": 7,
         "landscape": 8, "search": 9, "report": 10, "demo": 11, "cli": 12}


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "surrogate_eo" else None


def _module_level_imports(path: Path) -> list[str]:
    """Absolute names of surrogate_eo modules imported at module level (not inside functions)."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    pkg = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        nodes = [node]
        if isinstance(node, ast.If):  # e.g. TYPE_CHECKING / version switches
            nodes = [n for n in node.body + node.orelse]
        for n in nodes:
            if isinstance(n, ast.ImportFrom):
                if n.level:
                    base = pkg[: len(pkg) - n.level + 1]
                    name = ".".join(base + ([n.module] if n.module else []))
                else:
                    name = n.module or ""
                out.append(name)
                out += [f"{name}.{a.name}" for a in n.names]
            elif isinstance(n, ast.Import):
                out += [a.name for a in n.names]
    return [m for m in out if m.startswith("surrogate_eo.")]


def test_no_module_imports_a_higher_layer() -> None:
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        own = path.relative_to(PKG).parts[0].removesuffix(".py")
        if own == "__init__":
            continue
        level = LAYER.get(own, 0 if own.startswith("_") else None)  # private top-level helpers: lowest layer
        if level is None:
            continue
        for mod in _module_level_imports(path):
            top = _top(mod)
            if top in LAYER and LAYER[top] > level:
                bad.append(f"{path.relative_to(PKG)} imports {mod}")
    assert bad == [], bad


def test_every_top_level_module_has_a_layer() -> None:
    names = {p.name.removesuffix(".py") for p in PKG.iterdir() if (p.suffix == ".py" or p.is_dir())
             and not p.name.startswith("_")}
    assert names - set(LAYER) == set()
