"""/api/v1/improvement: register projects and read the 7+/9+ scan."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from servicepulse.http.auth import needs
from servicepulse.http.deps import DbSession, WriteSession
from servicepulse.improvement import service
from servicepulse.improvement.report import unit_text, why_sentence
from servicepulse.settings import get_settings

router = APIRouter(prefix="/improvement", tags=["improvement"])


class ProjectIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    owner: str | None = None
    cost: float | None = Field(default=None, ge=0)
    expected_improvement: float = Field(default=0.5, gt=0, description="moment points, or for a driver the share 0-1 of affected cases prevented")
    status: Literal["proposed", "running", "done", "cancelled"] = "proposed"
    moment_ids: list[int] = []
    drivers: list[str] = []


def _out(p) -> dict:
    return {"id": p.id, "title": p.title, "description": p.description, "owner": p.owner, "cost": p.cost,
            "expected_improvement": p.expected_improvement, "status": p.status,
            "moment_ids": [t.moment_id for t in p.targets if t.moment_id is not None],
            "drivers": [t.driver for t in p.targets if t.driver]}


def _input(body: ProjectIn) -> service.ProjectInput:
    return service.ProjectInput(title=body.title, description=body.description, owner=body.owner, cost=body.cost,
                                expected_improvement=body.expected_improvement, status=body.status,
                                moment_ids=tuple(body.moment_ids), drivers=tuple(body.drivers))


@router.get("/projects", dependencies=[needs("read:metrics")], summary="All improvement projects")
def list_projects(session: DbSession):
    return {"items": [_out(p) for p in service.list_projects(session)]}


@router.post("/projects", dependencies=[needs("write:projects")], status_code=201, summary="Register an improvement project")
def create_project(session: WriteSession, body: ProjectIn):
    project = service.create_project(session, _input(body))
    return JSONResponse(_out(project), status_code=201, headers={"Location": f"projects/{project.id}"})


@router.get("/projects/{project_id}", dependencies=[needs("read:metrics")], summary="One improvement project")
def get_project(session: DbSession, project_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    return _out(service.get_project(session, project_id))


@router.put("/projects/{project_id}", dependencies=[needs("write:projects")], summary="Replace an improvement project's fields and targets")
def update_project(session: WriteSession, project_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ProjectIn):
    return _out(service.update_project(session, project_id, _input(body)))


@router.get("/scan", dependencies=[needs("read:metrics")], summary="The 7+/9+ scan: expected effect over all respondents in NPS points or grade points (with its interval), class and why of every project, ranked; the base and the joint effect of all projects")
def get_scan(request: Request, session: DbSession, outcome: Literal["nps", "grade"] = "nps",
             language: Literal["nl", "en"] = "en"):
    settings = getattr(request.app.state, "settings", None) or get_settings()
    catalogue = getattr(request.app.state, "catalogue", None)
    report = service.scan(session, measure=outcome, min_n=int(settings.min_n), language=language)
    return {"outcome": outcome, "unit": unit_text(report, language, catalogue), "scale": list(report.scale),
            "base": report.base, "base_n": report.base_n, "confidence": report.confidence, "notes": report.notes,
            "joint": {"lift": report.joint, "low": report.joint_low, "high": report.joint_high,
                      "capped": report.joint_capped, "every_moment_at_its_norm": report.potential},
            "projects": [{
        "id": r.project_id, "rank": r.rank, "title": r.title, "class": r.scan.code,
        "label": r.scan.label_en if language == "en" else r.scan.label_nl,
        "expected_lift": r.scan.expected_lift, "lift_low": r.low, "lift_high": r.high, "capped": r.capped,
        "cost": r.cost, "lift_per_1000_cost": r.lift_per_1000,
        "why": why_sentence(r.why, language, catalogue),
        "reasoning": r.scan.reasoning_en if language == "en" else r.scan.reasoning_nl,
        "targets": [{"target": p.effect.moment, "kind": p.effect.kind,
                     "moment_id": p.key[1] if p.key[0] == "moment" else None,
                     "driver": p.key[1] if p.key[0] == "driver" else None, "score": p.effect.score,
                     "norm": p.effect.norm if p.effect.kind != "driver" else None, "planned": p.effect.planned,
                     "counted": p.effect.counted, "slope": p.effect.slope, "volume_share": p.effect.volume_share,
                     "among_reached": p.among, "lift": p.effect.lift, "lift_low": p.low, "lift_high": p.high,
                     "share": p.share, "projects": p.projects, "capped": p.capped, "role": p.effect.role}
                    for p in r.targets],
    } for r in report.rows]}
