"""A worker must know every job kind: each module defining a handler is in HANDLER_MODULES."""

import re

from servicepulse.jobs import registry

from ..conftest import REPO_ROOT


def test_every_module_with_job_handlers_is_listed_and_loads():
    src = REPO_ROOT / "src"
    defining = set()
    for path in (src / "servicepulse").rglob("*.py"):
        if re.search(r"^@job_handler\(", path.read_text(), re.MULTILINE):
            defining.add(".".join(path.relative_to(src).with_suffix("").parts))
    assert defining, "no job handlers found: the scan is broken"
    assert defining <= set(registry.HANDLER_MODULES), defining - set(registry.HANDLER_MODULES)
    registry.load_handler_modules()
    assert len(registry.registered_kinds()) >= len(defining)
