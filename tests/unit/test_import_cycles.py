"""Modules do not import each other in a circle, even through imports inside functions: a circle means neither file
can be read, changed or tested without the other (the player and the debrief once did: tui/look.py and
TrainerApp.show_debrief now hold what they shared)."""

from __future__ import annotations

import ast
from pathlib import Path

import trainer

PACKAGE = Path(trainer.__file__).parent


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST) -> list[str]:
    """Every module named by an import the program runs (at the top or inside a function); `if TYPE_CHECKING:` blocks
    are left out, since they never run."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
            names.append(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def import_graph(root: Path, package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules under `root` it imports at run time."""
    files = {_module_name(p, package): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found = {m for m in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))) if m in files}
        graph[name] = found - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_the_terminal_screens_import_no_circle():
    assert circles(import_graph(PACKAGE / "tui")) == []


def test_the_domain_core_imports_no_circle():
    graph = import_graph(PACKAGE)
    core = {m for m in graph if m.split(".")[1:2] in (["course"], ["engine"], ["scoring"])}
    assert core
    assert circles({m: graph[m] & core for m in core}) == []


def test_the_command_line_imports_no_circle():
    """trainer/cli/__init__.py imports the module of the group on the command line by name (importlib, from GROUPS),
    which the import statements do not show: those edges are added here. A command module takes what all of them share
    from cli/common.py, never from the package."""
    from trainer.cli import GROUPS

    graph = import_graph(PACKAGE)
    graph["trainer.cli"] |= {f"trainer.cli.{name}" for name in GROUPS}
    cli = {m for m in graph if m == "trainer.cli" or m.startswith("trainer.cli.")}
    assert {f"trainer.cli.{name}" for name in GROUPS} <= cli
    assert circles({m: graph[m] & cli for m in cli}) == []


# The one circle left, between the store's modules (trainer/store/store.py and the modules it calls back into): the
# store split (issue 21 item 1) is to remove it, and then this set empties.
KNOWN = {"trainer.store"}


def test_no_modules_import_each_other_in_a_circle_outside_the_known_one():
    graph = import_graph(PACKAGE)
    graph["trainer.cli"] |= {m for m in graph if m.startswith("trainer.cli.")}  # importlib, as above
    outside = [group for group in circles(graph) if not all(".".join(m.split(".")[:2]) in KNOWN for m in group)]
    assert outside == []


def test_a_circle_through_a_function_level_import_is_seen(tmp_path):
    pkg = tmp_path / "trainer" / "tui"
    pkg.mkdir(parents=True)
    (tmp_path / "trainer" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "player.py").write_text("from trainer.tui.look import X\ndef done():\n    from trainer.tui.debrief import D\n")
    (pkg / "debrief.py").write_text("from trainer.tui.player import P\n")
    (pkg / "look.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from trainer.tui.player import P\n")
    assert circles(import_graph(pkg, tmp_path / "trainer")) == [["trainer.tui.debrief", "trainer.tui.player"]]


def test_the_store_imports_no_circle():
    """The store's modules import one way: the facade (store.py) from its concerns, the concerns from access.py and the
    rows below it (backup.py once opened a Store to check a copy while store.py imported it to make one)."""
    graph = import_graph(PACKAGE / "store")
    # Left out: the package itself. Every `from trainer.store import chain` names it, and its __init__ imports Store
    # when first asked for it (`from trainer.store import Store`): a lazy re-export, not a file that needs another.
    del graph["trainer.store"]
    assert circles({name: found - {"trainer.store"} for name, found in graph.items()}) == []
