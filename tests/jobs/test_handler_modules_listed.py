"""A worker must know every job kind the code queues: each kind name has its handler in servicepulse/registry.py."""

import ast
import inspect

from servicepulse import registry

from ..conftest import REPO_ROOT


def _kind_names_in_the_code() -> set[str]:
    """Kind names as the code spells them: `*_KIND`/`*_JOB`/`KIND` constants and the first argument of
    enqueue(session, "kind", ...) / job_row("kind", ...) calls."""
    kinds = set()
    for path in (REPO_ROOT / "src" / "servicepulse").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name) and (target.id.endswith(("_KIND", "_JOB")) or target.id == "KIND"):
                        kinds.add(node.value.value)
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in ("enqueue", "job_row"):
                position = 1 if ast.unparse(node.func).endswith("enqueue") else 0
                if len(node.args) > position and isinstance(node.args[position], ast.Constant):
                    kinds.add(node.args[position].value)
    return kinds


def test_every_kind_the_code_queues_has_a_handler():
    kinds = _kind_names_in_the_code()
    assert len(kinds) >= 10, f"the scan found too few kind names: {sorted(kinds)}"
    assert kinds <= set(registry.JOB_HANDLERS), sorted(kinds - set(registry.JOB_HANDLERS))


def test_handlers_take_session_payload_and_context():
    for kind, handler in registry.JOB_HANDLERS.items():
        assert list(inspect.signature(handler).parameters)[:3] == ["session", "payload", "ctx"], kind


def test_periodic_kinds_have_handlers():
    assert set(registry.PERIODIC_JOBS) <= set(registry.JOB_HANDLERS)
