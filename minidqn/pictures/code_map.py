"""The map of the code, read from the package itself: its parts, their modules, and who imports whom.

Each sub-package of minidqn is a part, and its docstring ends with the line "May import: ..."
naming the parts below it. `read_parts` reads those lines and every module's imports (lazy ones
inside functions included), `layers` stacks the parts so that each stands above all it may
import, and `draw_code_map` draws them with an arrow for each part that one really imports.
tests/test_layout.py checks every import against the same lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

PACKAGE = Path(__file__).resolve().parent.parent  # the folder minidqn/


@dataclass
class Part:
    name: str  # "memory"
    summary: str  # the docstring's first line
    modules: list[str]  # its modules' short names, "ring", "compact", ...
    may_import: set[str]  # the parts its docstring allows
    imports: set[str] = field(default_factory=set)  # the other parts its modules really import


def module_name(path: Path) -> str:
    """minidqn/memory/ring.py -> "minidqn.memory.ring"; a package's __init__.py -> the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, package: str) -> set[str]:
    """Every minidqn module that `source` imports, wherever the import stands (at the top, inside
    a function, or as a string given to importlib.import_module). `from minidqn.memory import ring`
    counts as minidqn.memory.ring, a module, and `from minidqn.memory.ring import Batch` as
    minidqn.memory.ring too; relative imports are resolved against `package`, the importing
    module's package."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                above = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(above + ([base] if base else []))
            found.update(f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            found.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return {name for name in found if name == "minidqn" or name.startswith("minidqn.")}


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def may_import(docstring: str) -> set[str]:
    """The part names on the docstring's line "May import: minidqn.common, minidqn.nn." (none for
    "nothing of minidqn"); ValueError where the line is missing or written twice."""
    lines = [block for block in docstring.split("\n\n") if block.startswith("May import:")]
    if len(lines) != 1:
        raise ValueError("a part's docstring must say once what it may import ('May import: ...')")
    text = lines[0].removeprefix("May import:").replace("\n", " ").strip().rstrip(".")
    return set() if text == "nothing of minidqn" else {name.strip().removeprefix("minidqn.") for name in text.split(",")}


def read_parts() -> dict[str, Part]:
    """Every sub-package of minidqn as a Part, by name."""
    parts = {}
    for folder in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
        modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
        parts[folder.name] = Part(folder.name, docstring.split("\n")[0], modules, may_import(docstring))
    for part in parts.values():
        for path in (PACKAGE / part.name).glob("*.py"):
            for module in imported_modules(path.read_text(), f"minidqn.{part.name}"):
                other = module.split(".")[1] if module.count(".") else None
                if other in parts and other != part.name:
                    part.imports.add(other)
    return parts


def layers(parts: dict[str, Part]) -> list[list[str]]:
    """The parts in layers, bottom first: each part one layer above the highest part it may import."""
    level: dict[str, int] = {}

    def height(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:
            raise ValueError(f"the parts' allowed imports run in a circle: {' -> '.join((*seen, name))}")
        if name not in level:
            level[name] = 1 + max((height(other, (*seen, name)) for other in parts[name].may_import), default=-1)
        return level[name]

    for name in parts:
        height(name)
    return [sorted(name for name in parts if level[name] == k) for k in range(max(level.values()) + 1)]


def direct_imports(parts: dict[str, Part], name: str) -> set[str]:
    """The parts that `name` imports and could not reach through another part it imports: the
    arrows left when those implied by a longer path are dropped (a transitive reduction)."""
    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for other in parts[todo.pop()].imports - seen:
                seen.add(other)
                todo.append(other)
        return seen

    imports = parts[name].imports
    return {other for other in imports if not any(other in reachable(via) for via in imports - {other})}


def draw_code_map(ax: Axes) -> Axes:
    """The parts as boxes in their layers (the lowest at the bottom), each listing its modules, and an
    arrow from each part to each part it imports directly where no longer path of imports leads."""
    parts = read_parts()
    where = {}  # part -> (x, y) of its box's lower left corner
    stack = layers(parts)
    for row, names in enumerate(stack):
        width = 1.0 / len(names)
        for column, name in enumerate(names):
            where[name] = (column * width + 0.01, row * 1.0)
            _part_box(ax, parts[name], *where[name], width - 0.02)
    for part in parts.values():
        for other in sorted(direct_imports(parts, part.name)):
            (x0, y0), (x1, y1) = where[part.name], where[other]
            w0, w1 = 1.0 / len(stack[int(y0)]) - 0.02, 1.0 / len(stack[int(y1)]) - 0.02
            start = min(max(x1 + w1 / 2, x0 + 0.1 * w0), x0 + 0.9 * w0)  # above the target where the box allows
            ax.add_patch(FancyArrowPatch((start, y0), (x1 + w1 / 2, y1 + 0.62), arrowstyle="-|>", mutation_scale=14,
                                         linewidth=1.2, color="#424242", shrinkA=2, shrinkB=2))
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.1, len(stack) - 0.3))
    ax.axis("off")
    return ax


def _part_box(ax: Axes, part: Part, x: float, y: float, width: float) -> None:
    ax.add_patch(FancyBboxPatch((x, y), width, 0.62, boxstyle="round,pad=0.005,rounding_size=0.02",
                                facecolor="#1565c0", alpha=0.10, edgecolor="#1565c0", linewidth=1.5))
    ax.text(x + width / 2, y + 0.5, f"minidqn.{part.name}", ha="center", va="center", fontsize=11, weight="bold",
            color="#0d47a1")
    ax.text(x + width / 2, y + 0.22, "\n".join(_wrap(", ".join(part.modules), int(width * 110))), ha="center",
            va="center", fontsize=8.5, family="monospace")


def _wrap(text: str, width: int) -> list[str]:
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + len(word) + 1 > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    return lines
