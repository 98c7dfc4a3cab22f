"""Guards on the suite itself: no test can pass without checking anything.

A test passes vacuously when it asserts nothing, or when every assertion it makes sits in a
loop over something that can be empty (rows read back, a glob, a data file's cases) or in a
branch that may not be taken: with nothing to loop over, it passes having checked nothing. The
fix is one more assertion, outside the loop, on what the loop should run over
(``assert len(rows) == 8``; ``assert cases``).

What counts as an assertion: an ``assert``; ``with pytest.raises(...)`` or ``pytest.warns``;
``pytest.fail``; a call to an ``assert_*`` function (numpy, pandas); a call to a function of
the same module that asserts (``status_of``, ``_check_field``). It is conditional inside a
``for`` or ``while`` body, an ``all(...)`` over a generator, an ``except`` handler, or one
branch of an ``if``, unless the loop runs over a literal that is not empty (a tuple, list, set
or dict written out, ``range(3)``), is ``while True``, or both branches of the ``if`` assert.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
KNOWN: set[str] = {
    # Assert only inside loops over the tagging cases, in a file being changed elsewhere
    # (issue 18). Take each name out once its test asserts what its loop runs over: the guard
    # fails until the list is pruned, so it only ever shrinks.
    "test_tagging.py::test_each_case_gets_exactly_its_tags",
    "test_tagging.py::test_every_tag_names_evidence_found_where_it_says",
    "test_tagging.py::test_a_frame_tags_each_record_as_it_would_be_tagged_alone",
    "test_tagging.py::test_a_large_frame_scanned_on_several_threads_keeps_every_record_apart",
    "test_tagging.py::test_precision_and_recall_per_family_meet_their_floors",
}
Test = ast.FunctionDef | ast.AsyncFunctionDef


def unconditional_assertions(test: Test, asserting: set[str]) -> int | None:
    """How many assertions ``test`` makes whatever its data; None when it makes none at all."""
    found = _assertions(test.body, asserting)
    return sum(found) if found else None


def _assertions(body: list[ast.stmt], asserting: set[str]) -> list[bool]:
    """One flag per assertion in ``body``: True when it runs whenever ``body`` runs."""
    return [flag for statement in body for flag in _in_statement(statement, asserting)]


def _in_statement(node: ast.stmt, asserting: set[str]) -> list[bool]:
    if isinstance(node, ast.For | ast.AsyncFor | ast.While):
        runs = _runs_at_least_once(node)
        inner = _assertions(node.body, asserting)
        return [flag and runs for flag in inner] + _assertions(node.orelse, asserting)
    if isinstance(node, ast.If):
        taken, other = _assertions(node.body, asserting), _assertions(node.orelse, asserting)
        both = any(taken) and any(other)
        return [flag and both for flag in taken + other] + _in_expression(node.test, asserting)
    if isinstance(node, ast.Try | ast.TryStar):
        handled = [False for h in node.handlers for _ in _assertions(h.body, asserting)]
        rest = node.body + node.orelse + node.finalbody
        return _assertions(rest, asserting) + handled
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []  # a nested helper asserts only when called
    if isinstance(node, ast.Assert):
        return [not _is_all_over_generator(node.test)]
    flags = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            flags += _in_statement(child, asserting)
        else:
            flags += _in_expression(child, asserting)
    return flags


def _in_expression(node: ast.AST, asserting: set[str]) -> list[bool]:
    """Assertions made by calls (``check(row)``, ``pytest.raises``) inside one expression."""
    if isinstance(node, ast.Lambda):
        return []
    runs = True
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        runs = all(_non_empty_literal(g.iter) for g in node.generators)
    flags = [True] if isinstance(node, ast.Call) and _asserts(node, asserting) else []
    for child in ast.iter_child_nodes(node):
        flags += [flag and runs for flag in _in_expression(child, asserting)]
    return flags


def _asserts(call: ast.Call, asserting: set[str]) -> bool:
    name = ast.unparse(call.func)
    last = name.rsplit(".", 1)[-1]
    return (
        name in {"pytest.raises", "pytest.warns", "pytest.fail"}
        or last.startswith("assert_")
        or name in asserting
    )


def _runs_at_least_once(loop: ast.For | ast.AsyncFor | ast.While) -> bool:
    if isinstance(loop, ast.While):
        return isinstance(loop.test, ast.Constant) and loop.test.value is True
    return _non_empty_literal(loop.iter)


def _non_empty_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts)
    if isinstance(node, ast.Dict):
        return bool(node.keys)
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "range" and len(node.args) == 1:
        (count,) = node.args
        return isinstance(count, ast.Constant) and isinstance(count.value, int) and count.value > 0
    return False


def _is_all_over_generator(test: ast.expr) -> bool:
    """``assert all(x for x in rows)`` holds for no rows; ``all((a, b))`` does not."""
    if not (isinstance(test, ast.Call) and ast.unparse(test.func) == "all" and test.args):
        return False
    (argument,) = test.args
    if not isinstance(argument, ast.GeneratorExp | ast.ListComp | ast.SetComp):
        return False
    return not all(_non_empty_literal(g.iter) for g in argument.generators)


def asserting_helpers(module: ast.Module) -> set[str]:
    """The module's own functions that assert, directly or through another of them."""
    functions = {n.name: n for n in module.body if isinstance(n, ast.FunctionDef)}
    found: set[str] = set()
    while True:
        more = {
            name
            for name, function in functions.items()
            if name not in found and unconditional_assertions(function, found) is not None
        }
        if not more:
            return found
        found |= more


def vacuous_tests(source: str, filename: str) -> list[str]:
    """``file::test`` for each test in ``source`` that can pass without asserting."""
    module = ast.parse(source)
    asserting = asserting_helpers(module)
    return [
        f"{filename}::{node.name}"
        for node in ast.walk(module)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
        and not unconditional_assertions(node, asserting)
    ]


def test_no_test_can_pass_without_asserting() -> None:
    files = sorted(TESTS.glob("test_*.py"))
    assert len(files) > 30, "the scan saw the suite"
    found = {name for path in files for name in vacuous_tests(path.read_text("utf-8"), path.name)}
    assert found - KNOWN == set(), "assert what the loop runs over, outside the loop"
    assert KNOWN - found == set(), "fixed: take these out of KNOWN"


@pytest.mark.parametrize(
    "body",
    [
        "for row in rows:\n    assert row",
        "while rows:\n    assert rows.pop()",
        "assert all(r > 0 for r in rows)",
        "if rows:\n    assert rows[0]",
        "try:\n    go()\nexcept OSError:\n    assert False",
        "for path in paths:\n    with pytest.raises(ValueError):\n        read(path)",
        "for row in rows:\n    check(row)",
        "[check(row) for row in rows]",
        "go()",
    ],
)
def test_the_guard_finds_a_test_that_can_pass_without_asserting(body: str) -> None:
    source = "def check(x):\n    assert x\n\ndef test_it():\n" + _indent(body)
    assert vacuous_tests(source, "t.py") == ["t.py::test_it"]


@pytest.mark.parametrize(
    "body",
    [
        "for row in rows:\n    assert row\nassert len(rows) == 8",
        "for text in ('a', 'b'):\n    assert text",
        "for trial in range(5):\n    assert go(trial)",
        "while True:\n    assert poll()\n    break",
        "assert all(x for x in (1, 2))",
        "if rows:\n    assert rows[0]\nelse:\n    assert empty",
        "with pytest.raises(ValueError):\n    go()",
        "check(go())",
        "np.testing.assert_array_equal(a, b)",
    ],
)
def test_the_guard_passes_a_test_that_always_asserts(body: str) -> None:
    source = "def check(x):\n    assert x\n\ndef test_it():\n" + _indent(body)
    assert vacuous_tests(source, "t.py") == []


def _indent(body: str) -> str:
    return "".join(f"    {line}\n" for line in body.splitlines())
