"""The Conventions of docs/architecture.md, checked by reading every module's imports with `ast`.

Each rule is one test; a failure lists every place that breaks it (file:line and why), so the
message says what to fix. Nothing here imports the package: the rules hold for the source text.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "servicepulse"

FOUNDATION = ("settings", "errors")
KERNELS = "kernels"
STORAGE = ("db", "models")
INFRASTRUCTURE = ("jobs", "notify", "analytics_store")
# The domain order: a domain imports only domains before it (through their package, `servicepulse.<domain>`).
DOMAINS = ("org", "customers", "surveys", "journeys", "invitations", "verbatims", "responses", "cases",
           "connectors", "expectations", "followups", "metrics", "investment", "improvement", "digests", "privacy")
GLUE = "http"  # the FastAPI glue both edges share
EDGES = ("api", "web", "public", "cli", "demo", "app", "registry", "__main__")
# File roles inside a domain that face the outside: they may use the HTTP glue and FastAPI.
EDGE_ROLES = ("api", "views")
# Report modules render templates (and PDFs) through the glue's template environment and catalogue.
REPORT_ROLE = "report"
WEB_FRAMEWORKS = ("fastapi", "starlette", "typer", "uvicorn")
# Tables and the one domain that writes them. Every other domain reads only.
OWNERS = {
    "OrgUnit": "org", "User": "org", "TeamMembership": "org", "ApiKey": "org", "AuditEntry": "org",
    "DisplayName": "org",
    "Customer": "customers",
    "Survey": "surveys", "SurveyVersion": "surveys", "Question": "surveys",
    "Journey": "journeys", "Moment": "journeys", "MomentRule": "journeys",
    "Invitation": "invitations", "InvitationToken": "invitations", "TriggerRule": "invitations",
    "TriggerDecision": "invitations", "AnonymousLink": "invitations", "AnonymousSubmission": "invitations",
    "ContactPreference": "invitations", "TextMessage": "invitations",
    "Verbatim": "verbatims", "VerbatimMention": "verbatims", "VerbatimCodeFrame": "verbatims",
    "VerbatimThemeOwner": "verbatims",
    "Response": "responses", "Answer": "responses", "WebhookEndpoint": "responses", "ScoreDailyCount": "responses",
    "Case": "cases", "CaseEvent": "cases", "CaseFacts": "cases", "EffortModel": "cases",
    "Promise": "expectations", "Signal": "expectations", "SignalRule": "expectations",
    "ForecastSnapshot": "expectations",
    "FollowUp": "followups", "FollowUpContact": "followups", "AlertRule": "followups", "AlertRouting": "followups",
    "RootCause": "followups", "RecoveryBudget": "followups", "Gesture": "followups",
    "NotificationChannel": "followups", "Resurvey": "followups", "FollowUpReason": "followups",
    "FollowUpSettings": "followups",
    "ImprovementProject": "improvement", "ProjectTarget": "improvement",
    "SavedView": "metrics",
    "DigestSubscription": "digests", "DigestOptOut": "digests", "DigestSend": "digests",
    "ValueDiscipline": "investment",
    "Job": "jobs",
    # written by storage's outbox hooks (db/outbox.py) in the writer's transaction, emptied by its shipping job
    "AnalyticsOutbox": "analytics_store",
}


@dataclass(frozen=True)
class Module:
    path: Path
    name: str  # dotted, e.g. servicepulse.cases.service
    top: str  # the first part below servicepulse: "cases", "kernels", "settings", ...
    role: str  # the file's stem: "service", "views", "__init__", ...
    tree: ast.Module

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"


@cache
def modules() -> tuple[Module, ...]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[:2] == ("db", "migrations"):
            continue
        parts = list(rel.with_suffix("").parts)
        top = parts[0]
        name = ".".join(["servicepulse", *parts]).removesuffix(".__init__")
        found.append(Module(path, name, top, parts[-1], ast.parse(path.read_text(), str(path))))
    return tuple(found)


def _type_checking_blocks(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(n) for n in ast.walk(node))
    return ids


def imports(module: Module):
    """(node, imported module name, names taken, at module top?) for every import of the module."""
    type_only = _type_checking_blocks(module.tree)
    top_level = {id(n) for n in module.tree.body}
    for node in ast.walk(module.tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, (), id(node) in top_level
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.name.split(".")
                if module.role != "__init__":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node, target, tuple(a.name for a in node.names), id(node) in top_level


def _top(target: str) -> str | None:
    parts = target.split(".")
    return parts[1] if parts[0] == "servicepulse" and len(parts) > 1 else None


def _is_submodule(package_top: str, name: str) -> bool:
    base = PACKAGE / package_top
    return (base / f"{name}.py").exists() or (base / name / "__init__.py").exists()


def _report(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} place(s) break the rule:\n" + "\n".join(sorted(problems)), pytrace=False)


def _rank(top: str) -> tuple[int, int]:
    """Where a package sits: (layer, position in the domain order)."""
    if top in FOUNDATION:
        return (0, 0)
    if top == KERNELS:
        return (1, 0)
    if top in STORAGE:
        return (2, 0)
    if top in INFRASTRUCTURE:
        return (3, 0)
    if top in DOMAINS:
        return (4, DOMAINS.index(top))
    if top == GLUE:
        return (5, 0)
    return (6, 0)


def test_every_package_has_a_place_in_the_layers():
    known = set(FOUNDATION) | {KERNELS} | set(STORAGE) | set(INFRASTRUCTURE) | set(DOMAINS) | {GLUE} | set(EDGES)
    unknown = sorted({m.top for m in modules() if m.top != "__init__"} - known)
    assert not unknown, f"packages not placed in tests/test_layering.py and docs/architecture.md: {unknown}"


def test_kernels_import_nothing_else_of_the_package():
    problems = []
    for m in modules():
        if m.top != KERNELS:
            continue
        for node, target, _, _ in imports(m):
            top = _top(target)
            if top and top != KERNELS:
                problems.append(f"{m.where(node)}: a kernel imports {target}")
            if target.split(".")[0] in ("sqlalchemy", *WEB_FRAMEWORKS):
                problems.append(f"{m.where(node)}: a kernel imports {target} (kernels take numbers and frames)")
    _report(problems)


def test_lower_layers_never_import_upwards():
    """storage -> domains -> edges: nothing imports a layer above its own."""
    problems = []
    for m in modules():
        if m.top in EDGES or m.top == "__init__":
            continue
        mine = _rank(m.top)
        for node, target, _, _ in imports(m):
            top = _top(target)
            if not top or top == m.top:
                continue
            theirs = _rank(top)
            if theirs[0] > mine[0] and not (m.top in DOMAINS and top == GLUE):
                problems.append(f"{m.where(node)}: {m.top} imports {target} from a higher layer")
    _report(problems)


def test_domains_import_earlier_domains_through_their_package():
    problems = []
    for m in modules():
        if m.top not in DOMAINS:
            continue
        for node, target, names, _ in imports(m):
            top = _top(target)
            if top not in DOMAINS or top == m.top:
                continue
            if DOMAINS.index(top) > DOMAINS.index(m.top):
                problems.append(f"{m.where(node)}: {m.top} imports {target}, which comes later in the domain "
                                f"order (queue a job by kind name instead)")
            elif target != f"servicepulse.{top}":
                problems.append(f"{m.where(node)}: {m.top} imports {target}; import from servicepulse.{top}")
            else:
                subs = [n for n in names if _is_submodule(top, n)]
                if subs:
                    problems.append(f"{m.where(node)}: {m.top} takes module(s) {subs} of {top}; "
                                    f"import what servicepulse.{top} exports")
    _report(problems)


def test_only_edge_roles_use_the_web_frameworks_and_the_glue():
    problems = []
    for m in modules():
        if m.top not in DOMAINS:
            continue
        for node, target, _names, _ in imports(m):
            first = target.split(".")[0]
            glue = _top(target) == GLUE
            if m.role in EDGE_ROLES or m.role.endswith(tuple("_" + r for r in EDGE_ROLES)):  # views.py, *_views.py
                continue
            if m.role == REPORT_ROLE and glue and target in ("servicepulse.http.templating", "servicepulse.http.i18n"):
                continue
            if first in WEB_FRAMEWORKS or glue:
                problems.append(f"{m.where(node)}: {m.path.name} is not an edge role (api.py, views.py, *_views.py) "
                                f"but imports {target}")
    _report(problems)


def test_web_and_api_do_not_import_each_other():
    problems = []
    for m in modules():
        if m.top not in ("web", "api"):
            continue
        other = "api" if m.top == "web" else "web"
        for node, target, _, _ in imports(m):
            if _top(target) == other:
                problems.append(f"{m.where(node)}: {m.top} imports {target}; shared glue belongs in http/")
    _report(problems)


def test_package_imports_sit_at_module_top():
    """Imports of the package are at the top of a module (a cycle is a design problem, not something to hide)."""
    problems = []
    for m in modules():
        for node, target, _, at_top in imports(m):
            if _top(target) and not at_top:
                problems.append(f"{m.where(node)}: import of {target} inside a function or block")
    _report(problems)


def test_no_import_scaffolding():
    """No `try: import ... except ImportError`: dependencies are declared, not hidden."""
    problems = []
    for m in modules():
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Try) and any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body):
                caught = " ".join(ast.unparse(h.type) for h in node.handlers if h.type is not None)
                if "ImportError" in caught or "ModuleNotFoundError" in caught:
                    problems.append(f"{m.where(node)}: import wrapped in try/except {caught}")
    _report(problems)


def test_no_registry_grows_by_append():
    """Routers, pages and job handlers are listed once, as explicit imports, in servicepulse/registry.py."""
    problems = []
    for m in modules():
        for node in ast.walk(m.tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id.isupper()
                    and isinstance(node, ast.Call) and node in [s.value for s in m.tree.body if isinstance(s, ast.Expr)]):
                problems.append(f"{m.where(node)}: module-level {node.func.value.id}.append")
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("importlib.import_module", "import_module",
                                                                          "__import__"):
                problems.append(f"{m.where(node)}: a module loaded by name ({ast.unparse(node)})")
    _report(problems)


def _written_models(m: Module):
    """(node, model) for each insert/update/delete statement, `session.add(Model(...))` or bulk write of a model."""
    for node in ast.walk(m.tree):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        if func in ("insert", "update", "delete", "sa.insert", "sa.update", "sa.delete", "pg_insert",
                    "sqlite_insert", "postgresql.insert", "sqlite.insert") and node.args:
            name = ast.unparse(node.args[0]).split(".")[0]
            yield node, name
        elif func.endswith((".add", ".add_all")) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Call):
                yield node, ast.unparse(arg.func).split(".")[-1]


def test_every_table_is_written_by_its_owner_only():
    problems = []
    for m in modules():
        if m.top not in DOMAINS:
            continue
        for node, model in _written_models(m):
            owner = OWNERS.get(model)
            if owner and owner != m.top:
                problems.append(f"{m.where(node)}: {m.top} writes {model}, which {owner} owns")
    _report(problems)


def test_services_never_commit():
    """Only the unit of work commits (db/session.py), so every request, command and job is all or nothing."""
    problems = []
    for m in modules():
        if m.top in ("db", "jobs") or m.top in EDGES:
            continue
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                receiver = ast.unparse(node.func.value)
                if "savepoint" in receiver or "nested" in receiver:
                    continue
                problems.append(f"{m.where(node)}: {receiver}.commit()")
    _report(problems)


def test_the_model_modules_are_named_after_their_owners():
    problems = []
    for m in modules():
        if m.top != "models" or m.role in ("__init__", "base"):
            continue
        for node in m.tree.body:
            if isinstance(node, ast.ClassDef) and node.name in OWNERS and OWNERS[node.name] != m.role:
                problems.append(f"{m.where(node)}: {node.name} belongs in models/{OWNERS[node.name]}.py")
    tables = {n.name for m in modules() if m.top == "models" for n in m.tree.body
              if isinstance(n, ast.ClassDef) and any(ast.unparse(b) == "Base" for b in n.bases)}
    problems += [f"{t}: no owner in OWNERS" for t in sorted(tables - set(OWNERS))]
    _report(problems)
