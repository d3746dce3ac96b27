"""Improvement projects for the 7+/9+ scan: plausible plans, some worth it, some not.

The set is chosen against the demo's effect model (`effects.py`) and the
moment bases (`catalogue.py`) so that the scan has something to tell:

- 9+ projects on emotional moments well below 9 with strong drivers behind
  them (proactive updates while waiting for the engineer; keeping the visit
  window; a smooth switchover day);
- 7+ projects on functional moments below their norm (the first invoice and
  the final settlement, the invoice correction);
- projects with little experience potential: polishing functional moments
  that are already at or above 7 (a new order page, a new phone menu), or a
  driver customers hardly feel (a chatbot for after-hours questions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from servicepulse.models import ImprovementProject, ProjectTarget


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    description: str
    owner: str
    cost: float
    expected_improvement: float  # points on the target moments' 1-10 scale
    status: str
    moments: tuple[tuple[str, str], ...]  # (journey key, moment key)
    drivers: tuple[str, ...] = ()
    expectation: str = ""  # what the scan should conclude (documentation for testers)


PROJECTS = (
    ProjectSpec("Proactieve sms-updates bij storingen",
                "Automatic text messages while a fault is open: diagnosis, engineer planned, engineer on the way.",
                "Technische ondersteuning", 60_000, 1.5, "running",
                (("fault_repair", "waiting_engineer"),), ("dark_period_over_2_days", "proactive_update"), "9plus"),
    ProjectSpec("Afspraak is afspraak: monteursvenster nakomen",
                "Smaller visit windows, live engineer tracking and a call when the engineer runs late.",
                "Buitendienst", 120_000, 1.2, "proposed",
                (("fault_repair", "engineer_visit"), ("new_connection", "installation")), ("broken_promise",),
                "9plus"),
    ProjectSpec("Overstapdag zonder zorgen",
                "Guaranteed switchover on the moving day with a personal check-in the evening before.",
                "Aansluitingen & verhuizingen", 45_000, 1.5, "proposed",
                (("moving_house", "switchover_day"),), ("dark_period_over_2_days",), "9plus"),
    ProjectSpec("Begrijpelijke eerste factuur",
                "Redesigned first invoice that explains the pro-rata amounts in plain language.",
                "Facturatie", 35_000, 0.8, "proposed",
                (("new_connection", "first_invoice"), ("moving_house", "final_settlement")), (), "7plus"),
    ProjectSpec("Correcties binnen twee werkdagen",
                "Billing corrections handled within two working days, with a confirmation that says what changed.",
                "Facturatie", 25_000, 0.8, "proposed",
                (("billing_question", "correction"),), ("broken_promise",), "7plus"),
    ProjectSpec("Eén dossier voor front- en backoffice",
                "One shared case record so nobody has to tell the story twice.",
                "Klantenservice", 150_000, 0.7, "proposed",
                (("fault_repair", "diagnosis_appointment"), ("billing_question", "explanation")),
                # its case facts act through its moments (not added twice); feeling taken seriously, an emotional
                # moment, carries most of its effect: a 9+ project by the scan
                ("handoff", "reopened", "repeat_contact"), "9plus"),
    ProjectSpec("Nieuwe bestelpagina",
                "A redesigned order page with more animations and a product configurator.",
                "Product & Digitaal", 90_000, 0.6, "proposed",
                (("new_connection", "order"),), (), "little_potential"),
    ProjectSpec("Nieuw keuzemenu telefonie",
                "A new IVR menu with voice recognition for reporting faults.",
                "Klantenservice", 70_000, 0.5, "proposed",
                (("fault_repair", "report_fault"),), (), "little_potential"),
    ProjectSpec("Chatbot voor vragen buiten openingstijden",
                "A chatbot that answers simple questions in the evening and at weekends.",
                "Product & Digitaal", 55_000, 0.4, "proposed",
                (("cancellation", "cancel_confirmation"),), ("after_hours_contact",), "little_potential"),
)


def create_projects(session: Session, moment_ids: dict[tuple[str, str], int], created_at: datetime) -> int:
    for spec in PROJECTS:
        project = ImprovementProject(title=spec.title, description=spec.description, owner=spec.owner,
                                     cost=spec.cost, expected_improvement=spec.expected_improvement,
                                     status=spec.status, created_at=created_at)
        for key in spec.moments:
            project.targets.append(ProjectTarget(moment_id=moment_ids[key]))
        for driver in spec.drivers:
            project.targets.append(ProjectTarget(driver=driver))
        session.add(project)
    session.flush()
    return len(PROJECTS)
