"""The code frame in use (newest saved version, else the shipped default) and which department owns each theme."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from servicepulse.errors import ValidationFailed
from servicepulse.kernels.text import CodeFrame, CodeFrameError, load_default_codeframe
from servicepulse.kernels.text.codeframe import codeframe_from_yaml
from servicepulse.models import OrgUnit, VerbatimCodeFrame, VerbatimThemeOwner

MAX_YAML_CHARS = 500_000


def current_codeframe(session: Session) -> tuple[CodeFrame, int | None]:
    """(code frame, stored version id); the default code frame has version id None."""
    row = session.scalar(select(VerbatimCodeFrame).order_by(VerbatimCodeFrame.id.desc()).limit(1))
    if row is None:
        return load_default_codeframe(), None
    return codeframe_from_yaml(row.yaml, source=f"stored code frame {row.id}"), row.id


def parse_codeframe(text: str, source: str = "code frame") -> CodeFrame:
    """Validate YAML for a code frame; problems become a ValidationFailed a person can act on."""
    if len(text) > MAX_YAML_CHARS:
        raise ValidationFailed(f"{source} is too long ({len(text):,} characters, at most {MAX_YAML_CHARS:,})",
                               [("codeframe", "too long")])
    try:
        return codeframe_from_yaml(text, source=source)
    except CodeFrameError as exc:
        raise ValidationFailed(str(exc), [("codeframe", p) for p in exc.problems]) from None


def save_codeframe(session: Session, codeframe: CodeFrame, user_id: int | None = None, note: str = "") -> int:
    row = VerbatimCodeFrame(yaml=codeframe.to_yaml(), note=note[:200], created_by_id=user_id)
    session.add(row)
    session.flush()
    return row.id


def departments(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind == "department").order_by(OrgUnit.name)))


def theme_owners(session: Session, codeframe: CodeFrame) -> dict[str, OrgUnit]:
    """theme key -> owning department: an explicit owner row, else the department whose key
    the code frame names, else a parent theme's owner (ownership is inherited down the tree)."""
    units = {u.key: u for u in departments(session)}
    by_id = {u.id: u for u in units.values()}
    explicit = {o.theme: by_id.get(o.department_id) for o in session.scalars(select(VerbatimThemeOwner))}
    direct: dict[str, OrgUnit] = {}
    for t in codeframe.themes:
        unit = explicit.get(t.key) or (units.get(t.department) if t.department else None)
        if unit is not None:
            direct[t.key] = unit
    out = {}
    for t in codeframe.themes:
        for k in [t.key, *codeframe.ancestors(t.key)]:
            if k in direct:
                out[t.key] = direct[k]
                break
    return out


def set_theme_owner(session: Session, theme: str, department_id: int | None) -> None:
    session.execute(delete(VerbatimThemeOwner).where(VerbatimThemeOwner.theme == theme))
    if department_id is not None:
        unit = session.get(OrgUnit, department_id)
        if unit is None or unit.kind != "department":
            raise ValidationFailed(f"department {department_id} does not exist", [("department", "unknown")])
        session.add(VerbatimThemeOwner(theme=theme, department_id=department_id))
    session.flush()
