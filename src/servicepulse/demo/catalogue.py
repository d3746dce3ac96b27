"""What the demo organisation is made of: departments, teams, demo users and journeys.

Glasvezel Noord is a fictional Dutch fibre-internet provider. Everything here
is plain data; `organisation.py` and `loader.py` write it to the database.

Choices worth knowing:

- Teams carry a `line`: the contact-centre teams are the front office; the
  technical back office, billing and digital are the back office. The field
  engineers have no line (NULL): they are neither, and a visit is not a
  front-to-back-office handoff (the demo's `handoff` driver is the kernel's
  `front_to_back`, the classic handoff of a case from the front office to
  the back office).
- Every moment has a `base` grade: the mean 1-10 grade customers give it when
  nothing goes wrong in their case. The bases are chosen so that the demo
  shows every 7+/9+ status: functional moments above their norm (hold, do not
  over-invest: new connection 'order', fault 'report'), functional moments
  below it (fix the basics: 'first invoice', 'final settlement'), and
  emotional moments well below 9 (moments of truth to win: waiting for the
  engineer, switchover day).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ORGANISATION_KEY = "glasvezel-noord"
ORGANISATION_NAME = "Glasvezel Noord"

# (key, name); all sit directly under the organisation unit
DEPARTMENTS = (
    ("gn-customer-service", "Klantenservice (frontoffice)"),
    ("gn-technical-support", "Technische ondersteuning (backoffice)"),
    ("gn-field-service", "Buitendienst (monteurs)"),
    ("gn-billing", "Facturatie"),
    ("gn-product-digital", "Product & Digitaal"),
)

# The default code frame names owning departments by generic keys; in the demo
# organisation they are these departments (so the department report has owners).
CODEFRAME_DEPARTMENTS = {
    "billing": "gn-billing",
    "pricing": "gn-product-digital",
    "customer_service": "gn-customer-service",
    "retention": "gn-customer-service",
    "digital": "gn-product-digital",
    "field_service": "gn-field-service",
    "back_office": "gn-technical-support",
    "operations": "gn-technical-support",
}


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    department: str
    line: str | None
    actors: tuple[str, ...]  # display names used as event actors


TEAMS = (
    TeamSpec("gn-cs-phone", "Telefonie", "gn-customer-service", "front",
             ("Sanne de Vries", "Mohammed El Amrani", "Lisa Jansen", "Kevin Bakker", "Fatma Yilmaz")),
    TeamSpec("gn-cs-chat", "Chat & e-mail", "gn-customer-service", "front",
             ("Noor Visser", "Daan Smit", "Priya Ramdin", "Tom Mulder")),
    TeamSpec("gn-cs-retention", "Behoud & opzeggingen", "gn-customer-service", "front",
             ("Eva de Boer", "Joost Meijer", "Ilse Hoekstra")),
    TeamSpec("gn-ts-faults", "Storingen", "gn-technical-support", "back",
             ("Ruben Kok", "Anouk Dijkstra", "Bas Postma", "Yara Haddou")),
    TeamSpec("gn-ts-orders", "Aansluitingen & verhuizingen", "gn-technical-support", "back",
             ("Marieke Vos", "Jeroen Kuipers", "Samira Bouzid")),
    TeamSpec("gn-fs-north", "Monteurs Groningen-Drenthe", "gn-field-service", None,
             ("Henk Veenstra", "Sjoerd Wiersma", "Erik Brouwer", "Tim Zijlstra")),
    TeamSpec("gn-fs-east", "Monteurs Friesland", "gn-field-service", None,
             ("Jan de Jong", "Pieter Bosma", "Wouter Hiemstra")),
    TeamSpec("gn-billing-ops", "Facturatie backoffice", "gn-billing", "back",
             ("Karin Prins", "Mark Hendriks", "Loes van Dam")),
    TeamSpec("gn-digital", "Web & app", "gn-product-digital", "back",
             ("Niels Vermeer", "Zoë Kramer")),
)
TEAM_BY_KEY = {t.key: t for t in TEAMS}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    name: str
    teams: tuple[str, ...] = ()
    lead_of: tuple[str, ...] = ()
    language: str = "nl"


# Known demo passwords (documented, printed by the CLI). Few users: argon2 is
# deliberately slow, and every one of them is hashed for real.
ADMIN = DemoLogin("admin", "admin@demo.servicepulse", "demo-admin-2026", "Anna Admin")
ANALYST = DemoLogin("analyst", "analyst@demo.servicepulse", "demo-analyst-2026", "Arjen Analist", language="en")
LEAD_PASSWORD = "demo-lead-2026"
AGENT_PASSWORD = "demo-agent-2026"


def _lead_email(team_key: str) -> str:
    return f"lead.{team_key.removeprefix('gn-')}@demo.servicepulse"


TEAMLEADS = tuple(
    DemoLogin("teamlead", _lead_email(t.key), LEAD_PASSWORD, f"Teamleider {t.name}", lead_of=(t.key,))
    for t in TEAMS
)
AGENTS = (
    DemoLogin("agent", "sanne.devries@demo.servicepulse", AGENT_PASSWORD, "Sanne de Vries", teams=("gn-cs-phone",)),
    DemoLogin("agent", "mohammed.elamrani@demo.servicepulse", AGENT_PASSWORD, "Mohammed El Amrani", teams=("gn-cs-phone",)),
    DemoLogin("agent", "noor.visser@demo.servicepulse", AGENT_PASSWORD, "Noor Visser", teams=("gn-cs-chat",)),
    DemoLogin("agent", "eva.deboer@demo.servicepulse", AGENT_PASSWORD, "Eva de Boer", teams=("gn-cs-retention",)),
    DemoLogin("agent", "ruben.kok@demo.servicepulse", AGENT_PASSWORD, "Ruben Kok", teams=("gn-ts-faults",)),
    DemoLogin("agent", "marieke.vos@demo.servicepulse", AGENT_PASSWORD, "Marieke Vos", teams=("gn-ts-orders",)),
    DemoLogin("agent", "henk.veenstra@demo.servicepulse", AGENT_PASSWORD, "Henk Veenstra", teams=("gn-fs-north",)),
    DemoLogin("agent", "karin.prins@demo.servicepulse", AGENT_PASSWORD, "Karin Prins", teams=("gn-billing-ops",)),
)
USERS = (ADMIN, ANALYST, *TEAMLEADS, *AGENTS)
# The logins shown to a person trying the demo: one per role.
SHOWN_LOGINS = (ADMIN, ANALYST, TEAMLEADS[0], AGENTS[0])


@dataclass(frozen=True)
class MomentSpec:
    key: str
    name_nl: str
    name_en: str
    kind: str  # functional / emotional
    department: str
    channel: str
    base: float  # mean grade when nothing goes wrong (see the module docstring)


@dataclass(frozen=True)
class JourneySpec:
    key: str
    name_nl: str
    name_en: str
    description_nl: str
    description_en: str
    share: float  # share of all cases
    moments: tuple[MomentSpec, ...] = field(default_factory=tuple)

    def moment(self, key: str) -> MomentSpec:
        return next(m for m in self.moments if m.key == key)


F, E = "functional", "emotional"
CS, TS, FS, BI, PD = (d[0] for d in DEPARTMENTS)

JOURNEYS = (
    JourneySpec(
        "new_connection", "Nieuwe aansluiting", "New connection",
        "Van het bestellen van glasvezel tot de eerste factuur.",
        "From ordering fibre to the first invoice.", 0.15,
        (
            MomentSpec("order", "Bestelling plaatsen", "Placing the order", F, PD, "web", 7.9),
            MomentSpec("planning", "Installatie inplannen", "Scheduling the installation", F, TS, "phone", 7.3),
            MomentSpec("waiting_activation", "Wachten op de aansluiting", "Waiting to be connected", E, TS, "email", 6.9),
            MomentSpec("installation", "Installatie door de monteur", "Installation by the engineer", E, FS, "field", 7.8),
            MomentSpec("first_invoice", "Eerste factuur", "First invoice", F, BI, "email", 6.6),
        ),
    ),
    JourneySpec(
        "fault_repair", "Storing verhelpen", "Fault repair",
        "Van het melden van een storing tot een bevestigde oplossing; het moment van de waarheid is het wachten zonder internet.",
        "From reporting a fault to a confirmed fix; the moment of truth is the wait without internet.", 0.35,
        (
            MomentSpec("report_fault", "Storing melden", "Reporting the fault", F, CS, "phone", 7.9),
            MomentSpec("diagnosis_appointment", "Diagnose en afspraak", "Diagnosis and appointment", F, TS, "phone", 7.1),
            MomentSpec("waiting_engineer", "Wachten op de monteur", "Waiting for the engineer", E, TS, "sms", 6.4),
            MomentSpec("engineer_visit", "Bezoek van de monteur", "The engineer's visit", E, FS, "field", 7.9),
            MomentSpec("resolution_confirmed", "Oplossing bevestigd", "Resolution confirmed", F, CS, "email", 7.4),
        ),
    ),
    JourneySpec(
        "moving_house", "Verhuizen", "Moving house",
        "De aansluiting meenemen naar een nieuw adres zonder een dag offline.",
        "Taking the connection to a new address without a day offline.", 0.12,
        (
            MomentSpec("report_move", "Verhuizing doorgeven", "Reporting the move", F, CS, "web", 7.5),
            MomentSpec("address_check", "Adrescontrole", "Checking the new address", F, TS, "email", 7.2),
            MomentSpec("switchover_day", "Overstapdag", "Switchover day", E, FS, "field", 6.8),
            MomentSpec("final_settlement", "Eindafrekening oud adres", "Final settlement old address", F, BI, "email", 6.7),
        ),
    ),
    JourneySpec(
        "billing_question", "Vraag over factuur", "Billing question",
        "Een vraag over een factuur, van de vraag tot een gecorrigeerde of uitgelegde rekening.",
        "A question about an invoice, from asking to a corrected or explained bill.", 0.25,
        (
            MomentSpec("ask_question", "Vraag stellen", "Asking the question", F, CS, "phone", 7.7),
            MomentSpec("explanation", "Serieus genomen worden", "Being taken seriously", E, CS, "phone", 7.2),
            MomentSpec("correction", "Correctie van de factuur", "Correcting the invoice", F, BI, "email", 6.8),
            MomentSpec("confirmation", "Bevestiging", "Confirmation", F, BI, "email", 7.3),
        ),
    ),
    JourneySpec(
        "cancellation", "Opzeggen", "Cancellation",
        "Het contract beëindigen: de laatste indruk bepaalt of een klant terugkomt of anderen waarschuwt.",
        "Ending the contract: the last impression decides whether a customer comes back or warns others.", 0.13,
        (
            MomentSpec("cancel_request", "Opzegging doorgeven", "Requesting the cancellation", F, CS, "phone", 7.2),
            MomentSpec("retention_offer", "Aanbod om te blijven", "Offer to stay", E, CS, "phone", 6.6),
            MomentSpec("cancel_confirmation", "Bevestiging opzegging", "Cancellation confirmed", F, CS, "email", 7.7),
            MomentSpec("equipment_return", "Apparatuur terugsturen", "Returning the equipment", F, PD, "web", 7.3),
            MomentSpec("final_invoice", "Eindfactuur", "Final invoice", F, BI, "email", 6.5),
        ),
    ),
)
JOURNEY_BY_KEY = {j.key: j for j in JOURNEYS}

# Customer mix.
LANGUAGE_SHARES = {"nl": 0.85, "en": 0.15}
SEGMENT_SHARES = {"consumer": 0.70, "senior": 0.18, "business": 0.12}
OPTED_OUT_SHARE = 0.04
