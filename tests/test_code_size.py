"""The size limits of the project's standards, held: no module over 250 lines and no function
over 40 (its body, nested functions included), in daemon/, tools/ and tests/."""
import ast

from conftest import ROOT

MODULE_LINES, FUNCTION_LINES = 250, 40


def _sources():
    for folder in ("daemon", "tools", "tests"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def oversize(path, root=ROOT) -> list[str]:
    """Each limit ``path`` breaks, one line naming the module or function and its length."""
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    found = []
    if (n := len(text.splitlines())) > MODULE_LINES:
        found.append(f"{where}: {n} lines (at most {MODULE_LINES})")
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.end_lineno - node.body[0].lineno + 1
            if body > FUNCTION_LINES:
                found.append(f"{where}:{node.lineno}: {node.name}() has {body} lines (at most {FUNCTION_LINES})")
    return found


def test_no_module_or_function_is_over_the_limits():
    paths = list(_sources())
    assert len(paths) > 100  # the walk found the tree
    found = [line for p in paths for line in oversize(p)]
    assert not found, "\n".join(found)


def test_the_check_sees_a_long_function_and_a_long_module(tmp_path):
    fn = tmp_path / "f.py"
    fn.write_text("def f():\n    def g():\n        pass\n" + "    x = 1\n" * 38)  # f: 40 lines, g inside
    assert oversize(fn, tmp_path) == []
    fn.write_text(fn.read_text() + "    x = 1\n")
    assert oversize(fn, tmp_path) == ["f.py:1: f() has 41 lines (at most 40)"]
    module = tmp_path / "m.py"
    module.write_text("x = 1\n" * 250)
    assert oversize(module, tmp_path) == []
    module.write_text("x = 1\n" * 251)
    assert oversize(module, tmp_path) == ["m.py: 251 lines (at most 250)"]
