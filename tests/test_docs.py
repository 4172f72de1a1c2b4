"""Code in docs/, the README and every module's docstrings runs as doctests, so none can drift from the code."""

import doctest
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
MODULES = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                 for p in (ROOT / "minidqn").rglob("*.py"))  # every module and sub-package, at any depth


@pytest.mark.parametrize("page", [p for p in PAGES if p.exists()], ids=lambda p: p.name)
def test_doc_examples_run(page):
    result = doctest.testfile(str(page), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# --- every name and path the docs mention exists -----------------------------------------------
def _texts() -> dict[str, str]:
    """Each doc page, the notebooks' cells, and every module's source (its docstrings and comments), by name."""
    texts = {page.name: page.read_text() for page in PAGES}
    for path in sorted((ROOT / "docs").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        texts[path.name] = "\n".join("".join(cell["source"]) for cell in notebook["cells"])
    texts.update({str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "minidqn").rglob("*.py")})
    texts.update({str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "demos").glob("*.py")})
    return texts


TEXTS = _texts()
CLASSES = {name: cls for module in MODULES for name, cls in vars(importlib.import_module(module)).items()
           if inspect.isclass(cls) and cls.__module__.startswith("minidqn")}
SHORT_MODULES = {name.rsplit(".", 1)[-1]: name for name in MODULES}
NOT_OURS = {"EnvSpec"}  # gymnasium's, named in the docs
FILE_ENDINGS = {"py", "npz", "json", "csv", "png", "gif", "md", "ipynb", "toml"}


def test_every_file_path_the_docs_give_exists():
    missing = []
    for where, text in TEXTS.items():
        for path in re.findall(r"(?<![\w./-])((?:minidqn|demos|tests|docs)/[\w/.*-]*\w)(?![\w{])", text):
            if not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()):
                missing.append(f"{where}: {path}")
        if where.endswith((".md", ".ipynb")):
            base = ROOT if where == "README.md" else ROOT / "docs"
            for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if not link.startswith("http") and not (base / link).exists():
                    missing.append(f"{where}: link {link}")
    assert not missing, "paths that do not exist:\n" + "\n".join(missing)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            thing = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if inspect.isclass(thing) and not hasattr(thing, attribute):
                return _has_member(thing, attribute)  # an attribute each instance sets
            if not hasattr(thing, attribute):
                return False
            thing = getattr(thing, attribute)
        return True
    return False


def test_every_dotted_minidqn_name_in_the_docs_resolves():
    names = {(where, name) for where, text in TEXTS.items() for name in re.findall(r"\bminidqn(?:\.\w+)+", text)}
    wrong = sorted(f"{where}: {name}" for where, name in names if not _resolves(name.rstrip(".")))
    assert not wrong, "names that do not resolve:\n" + "\n".join(wrong)


def _has_member(cls: type, member: str) -> bool:
    """A method or class attribute, a dataclass field, or an attribute its methods set on self."""
    if hasattr(cls, member) or member in getattr(cls, "__dataclass_fields__", {}):
        return True
    return any(re.search(rf"\bself\.{member}\b", inspect.getsource(klass)) for klass in cls.__mro__
               if klass.__module__.startswith("minidqn"))


def test_every_backticked_class_member_and_module_function_in_the_docs_exists():
    wrong = []
    for where, text in TEXTS.items():
        if not where.endswith((".md", ".ipynb")):
            continue
        for owner, member in set(re.findall(r"`([A-Za-z_]\w*)\.([A-Za-z_]\w*)", text)):
            if member in FILE_ENDINGS:
                continue  # a file name: pictures.py, run.json
            if owner in CLASSES:
                ok = _has_member(CLASSES[owner], member)
            elif owner in SHORT_MODULES:
                twin = CLASSES.get(owner.title().replace("_", ""))  # `history.to_csv`: a History, or the module
                ok = hasattr(importlib.import_module(SHORT_MODULES[owner]), member) or bool(twin and _has_member(twin, member))
            elif owner[0].isupper() and owner not in NOT_OURS:
                ok = False  # a class the package does not have
            else:
                continue  # a variable (agent.online, env.step) or another library's name
            if not ok:
                wrong.append(f"{where}: {owner}.{member}")
    assert not wrong, "members the code does not have:\n" + "\n".join(sorted(wrong))
