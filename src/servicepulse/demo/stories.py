"""Case stories: the events and promises of every demo case.

Each journey has a script (one function below) that tells what happens in a
case, step by step, with the things that make or break an experience:
contact attempts outside opening hours, front/back-office handoffs, promises
(call-back, visit window, resolution and reply dates) kept or broken, tickets
closed by the back office and reopened when the customer calls again,
proactive updates, long silences ("dark periods") that make customers chase,
and first-time-right cases that end after one contact.

Times are local wall-clock hours (Europe/Amsterdam) since the start of the
demo window; `generate.py` converts them to UTC. The stories are told on the
calendar of the twelve months ending on `END_DATE`; a load may move that whole
year by whole weeks (`window_for`) so that the data end near the load day with
every weekday and opening hour in place.
Events after the end of the window are cut off: those cases stay open.

Activity names are chosen for the case-facts kernel
(`servicepulse.kernels.eventlog.facts`): only the closing activities contain
"closed"/"resolved" ("Ticket closed", "Case resolved", "Case closed"), the
waiting-on-customer activity is exactly "Waiting for customer", and nothing
follows a final closing event (it would count as a reopening).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from servicepulse.demo import contacts
from servicepulse.demo.catalogue import TEAM_BY_KEY
from servicepulse.demo.effects import PROACTIVE_ACTIVITY

END_DATE = date(2026, 10, 31)  # last day of the demo's data
WINDOW_DAYS = 365
WINDOW_START = END_DATE + timedelta(days=1) - timedelta(days=WINDOW_DAYS)  # 2025-11-01
END_H = WINDOW_DAYS * 24.0
_W0 = WINDOW_START.weekday()
# Proactive text-message updates for fault repairs were rolled out on this
# day: the demo shows the before/after.
PROACTIVE_ROLLOUT_H = (date(2026, 5, 1) - WINDOW_START).days * 24.0


def window_for(end_date: date | None) -> tuple[date, date]:
    """(first day, last day) of the demo year ending on or before `end_date` (None: the fixed `END_DATE`).

    The year moves by whole weeks only: the stories' weekdays (closed weekends,
    quieter Saturdays) stay true.
    """
    if end_date is None:
        return WINDOW_START, END_DATE
    shift = timedelta(weeks=(end_date - END_DATE).days // 7)
    return WINDOW_START + shift, END_DATE + shift

# Opening hours by weekday (0 = Monday): (open, close) in local hours.
FRONT_HOURS = {0: (8, 20), 1: (8, 20), 2: (8, 20), 3: (8, 20), 4: (8, 20), 5: (9, 17)}  # as eventlog.calendar
BACK_HOURS = {0: (8, 17), 1: (8, 17), 2: (8, 17), 3: (8, 17), 4: (8, 17)}
FIELD_HOURS = {0: (8, 18), 1: (8, 18), 2: (8, 18), 3: (8, 18), 4: (8, 18), 5: (8, 13)}

CUSTOMER = "customer"
SYSTEM = "system"

# Directions
IN, OUT, INT = "inbound", "outbound", "internal"


def next_open(t: float, hours: dict[int, tuple[int, int]]) -> float:
    """The first moment at or after ``t`` inside ``hours``."""
    for _ in range(9):
        day = math.floor(t / 24.0)
        wd = (_W0 + day) % 7
        h = t - day * 24.0
        if wd in hours:
            o, c = hours[wd]
            if h < o:
                return day * 24.0 + o
            if h < c:
                return t
        t = (day + 1) * 24.0
    return t


def is_open(t: float, hours: dict[int, tuple[int, int]]) -> bool:
    return next_open(t, hours) == t


@dataclass
class PromiseDraft:
    kind: str
    made_at: float
    due_at: float
    team: str | None
    window_start: float | None = None
    fulfilled_at: float | None = None


@dataclass
class Story:
    """The events of one case as they are told; see the module docstring."""

    rnd: random.Random
    journey: str
    t: float
    channel: str  # the customer's first channel
    front: str  # front-office team key
    field_team: str
    segment: str
    events: list[tuple] = field(default_factory=list)
    promises: list[PromiseDraft] = field(default_factory=list)
    causes: dict[int, tuple] = field(default_factory=dict)  # why a contact happened (contacts.mark)

    # -- primitives -------------------------------------------------------
    def add(self, activity: str, direction: str, channel: str | None, team: str | None, facing: bool,
            moment: str | None = None, actor: str | None = None, at: float | None = None) -> float:
        t = self.t if at is None else at
        if actor is None:
            actor = self.rnd.choice(TEAM_BY_KEY[team].actors) if team else SYSTEM
        self.events.append((t, activity, channel, direction, team, facing, moment, actor))
        return t

    def later(self, lo: float, hi: float) -> float:
        self.t += self.rnd.uniform(lo, hi)
        return self.t

    def promise(self, kind: str, due: float, team: str | None, window_start: float | None = None) -> PromiseDraft:
        p = PromiseDraft(kind, self.t, due, team, window_start)
        self.promises.append(p)
        return p

    def other_channel(self) -> str:
        return self.rnd.choice([c for c in ("phone", "chat", "email", "app") if c != self.channel])

    def customer_contact(self, activity: str, moment: str | None, channel: str | None = None) -> None:
        """The customer reaches out. By phone outside opening hours nobody answers:
        an unanswered attempt, then the real call when the lines open."""
        channel = channel or self.channel
        if channel == "phone" and not is_open(self.t, FRONT_HOURS):
            self.add("Call attempt outside opening hours", IN, "phone", None, False, moment, CUSTOMER)
            self.t = next_open(self.t, FRONT_HOURS) + self.rnd.uniform(0.05, 2.5)
        elif channel != "phone" and not is_open(self.t, FRONT_HOURS):
            # a message at night is read when the lines open; the contact itself is logged now
            self.add(activity, IN, channel, self.front if channel in ("chat", "email", "app", "web") else None,
                     True, moment, CUSTOMER)
            self.t = next_open(self.t, FRONT_HOURS) + self.rnd.uniform(0.1, 1.5)
            return
        self.add(activity, IN, channel, self.front, True, moment, CUSTOMER)

    def chase(self, moment: str | None) -> None:
        """The customer contacts us again (a repeat contact), sometimes in another channel."""
        channel = self.channel if self.rnd.random() < 0.6 else self.other_channel()
        if not is_open(self.t, FRONT_HOURS) and self.rnd.random() < 0.75:
            # most people wait for the lines to open; the rest try anyway
            self.t = next_open(self.t, FRONT_HOURS) + self.rnd.uniform(0.1, 3.0)
        self.customer_contact("Customer contacts again", moment, channel)

    def wait(self, until: float, moment: str, proactive: bool, chase_after: float = 60.0,
             p_chase: float = 0.65) -> None:
        """The customer waits until ``until``. With proactive updates we write first;
        without them a long silence makes many customers chase."""
        start = self.t
        gap = until - start
        if gap <= 0:
            return
        if proactive:
            t = start + self.rnd.uniform(1.0, 20.0)
            n = 0
            while t < until - 4.0 and n < 4:
                self.add(PROACTIVE_ACTIVITY, OUT, self.rnd.choice(("sms", "email", "app")), None, True, moment,
                         SYSTEM, at=t)
                t += self.rnd.uniform(20.0, 44.0)
                n += 1
            return
        t = start
        while until - t > chase_after and self.rnd.random() < p_chase:
            t += self.rnd.uniform(chase_after * 0.8, chase_after * 1.8)
            if t >= until:
                break
            self.t = t
            self.chase(moment)
            contacts.mark(self, "silence", contacts.moment_department(self.journey, moment), since=start)
            t = self.t
        self.t = max(self.t, start)

    def handoff(self, moment: str | None = None, activity: str = "Handed to back office") -> None:
        """The front office passes the case on (the next team's events follow)."""
        self.add(activity, INT, None, self.front, False, moment)

    def close(self, team: str | None, activity: str = "Case closed") -> None:
        self.later(0.05, 2.0)
        self.add(activity, INT, None, team, False)


# -- the journeys ---------------------------------------------------------

def _p_broken(s: Story, base: float) -> float:
    """Winter (storms, backlog) and the Friesland field team break more promises."""
    winter = 1.4 if 30 * 24 <= s.t <= 120 * 24 else 1.0
    team = 1.7 if s.field_team == "gn-fs-east" else 1.0
    return min(base * winter * team, 0.9)


def _appointment(s: Story, lead_days: tuple[float, float]) -> float:
    """A visit window start (4-hour window, 08:00 or 13:00) some days ahead."""
    day = math.floor((s.t + 24.0 * s.rnd.uniform(*lead_days)) / 24.0)
    ws = next_open(day * 24.0 + (8.0 if s.rnd.random() < 0.55 else 13.0), FIELD_HOURS)
    if ws - math.floor(ws / 24.0) * 24.0 > 13.5:  # Saturday afternoon has no window
        ws = next_open(math.floor(ws / 24.0) * 24.0 + 24.0, FIELD_HOURS)
    return ws


def _visit(s: Story, back: str | None, moment_plan: str, moment_wait: str, moment_visit: str, visit_activity: str,
           proactive: bool, lead_days: tuple[float, float], p_broken: float) -> None:
    """Plan a visit (a promised window), wait for it, and the engineer comes - or does not."""
    ws = _appointment(s, lead_days)
    s.add("Engineer appointment planned", OUT, "phone" if back else "email", back, True, moment_plan)
    p = s.promise("appointment", ws + 4.0, s.field_team, window_start=ws)
    s.wait(ws, moment_wait, proactive)
    if s.rnd.random() < _p_broken(s, p_broken):
        # no-show: the customer waited at home for nothing and calls
        s.t = p.due_at + s.rnd.uniform(0.3, 3.0)
        s.customer_contact("Customer contacts again", moment_visit, "phone")
        contacts.mark(s, "broken_promise", contacts.team_department(s.field_team))
        s.later(0.1, 0.5)
        s.add("Engineer appointment planned", OUT, "phone", s.front, True, moment_plan)
        ws2 = _appointment(s, (0.6, 3.0))
        p2 = s.promise("appointment", ws2 + 4.0, s.field_team, window_start=ws2)
        s.t = ws2 + s.rnd.uniform(0.0, 3.8)
        s.add(visit_activity, OUT, "field", s.field_team, True, moment_visit)
        p.fulfilled_at = s.t  # late: broken
        p2.fulfilled_at = s.t
    else:
        s.t = ws + s.rnd.uniform(0.0, 3.8)
        s.add(visit_activity, OUT, "field", s.field_team, True, moment_visit)
        p.fulfilled_at = s.t


def _callback(s: Story, back: str, activity: str, moment: str, due_hours: float, p_broken: float,
              kind: str = "callback") -> None:
    """The front office promises that the back office will get back; it does, in time or late."""
    p = s.promise(kind, s.t + due_hours, back)
    if s.rnd.random() < p_broken:
        late = p.due_at + s.rnd.uniform(3.0, 40.0)
        if s.rnd.random() < 0.6:  # the customer gives up waiting and chases first
            s.t = p.due_at + s.rnd.uniform(1.0, min(20.0, late - p.due_at))
            s.chase(moment)
            contacts.mark(s, "broken_promise", contacts.team_department(back))
        s.t = next_open(max(late, s.t + 0.5), BACK_HOURS)
    else:
        s.t = next_open(s.t + s.rnd.uniform(0.5, due_hours * 0.8), BACK_HOURS)
        if s.t > p.due_at:
            s.t = p.due_at - s.rnd.uniform(0.05, 0.5)
    s.add(activity, OUT, "phone" if kind == "callback" else "email", back, True, moment)
    p.fulfilled_at = s.t


def _premature_close(s: Story, back: str, moment: str) -> None:
    """The back office closes the ticket (information missing); the customer, hearing
    nothing, calls again, the ticket is reopened and the story told once more."""
    s.t = next_open(s.t + s.rnd.uniform(2.0, 20.0), BACK_HOURS)
    s.add("Ticket closed", INT, None, back, False)
    s.t += s.rnd.uniform(20.0, 80.0)
    s.chase(moment)
    contacts.mark(s, "repeat", contacts.team_department(back))
    s.later(0.05, 0.3)
    s.add("Ticket reopened", INT, None, s.front, False, moment)
    s.later(0.05, 0.3)
    s.handoff(moment)


def fault_repair(s: Story, lateness: float) -> None:
    s.customer_contact("Fault reported", "report_fault")
    s.later(0.05, 0.4)
    if s.rnd.random() < 0.40:
        s.add("Fault fixed remotely", OUT, s.channel if s.channel != "web" else "email", s.front, True,
              "diagnosis_appointment")
        s.close(s.front, "Case resolved")
        return
    back = "gn-ts-faults"
    s.handoff("report_fault")
    if s.rnd.random() < 0.10:
        _premature_close(s, back, "diagnosis_appointment")
    s.t = next_open(s.t + s.rnd.expovariate(1 / 3.0), BACK_HOURS)
    s.add("Remote diagnosis", INT, None, back, False, "diagnosis_appointment")
    _callback(s, back, "Customer called back", "diagnosis_appointment", 24.0, 0.15 * lateness)
    proactive = s.rnd.random() < (0.55 if s.t >= PROACTIVE_ROLLOUT_H else 0.12)
    _visit(s, back, "diagnosis_appointment", "waiting_engineer", "engineer_visit", "Engineer visit",
           proactive, (0.6, 5.0), 0.14 * lateness)
    s.t = next_open(s.t + s.rnd.uniform(0.5, 6.0), FRONT_HOURS)
    s.add("Resolution confirmed", OUT, "email", s.front, True, "resolution_confirmed")
    s.close(s.front, "Case resolved")


def new_connection(s: Story, lateness: float) -> None:
    s.customer_contact("Order placed", "order")
    s.later(0.01, 0.1)
    s.add("Order confirmed", OUT, "email", None, True, "order", SYSTEM)
    proactive = s.rnd.random() < 0.5
    if s.rnd.random() < 0.45:
        # the customer picks an installation slot while ordering: no back office
        # involved, the engineer activates the line on the spot
        s.later(0.01, 0.2)
        _visit(s, None, "planning", "waiting_activation", "installation", "Installation visit", proactive,
               (3.0, 9.0), 0.13 * lateness)
        s.later(0.3, 1.5)
        s.add("Connection activated", INT, None, s.field_team, False, "installation")
        activated_by = None
    else:
        back = "gn-ts-orders"
        s.later(0.01, 0.3)
        s.handoff("order")
        s.t = next_open(s.t + s.rnd.uniform(2.0, 30.0), BACK_HOURS)
        s.add("Order picked up", INT, None, back, False, "planning")
        _visit(s, back, "planning", "waiting_activation", "installation", "Installation visit", proactive,
               (3.0, 9.0), 0.13 * lateness)
        s.later(0.3, 2.0)
        s.add("Connection activated", INT, None, back, False, "installation")
        activated_by = back
    s.t = next_open(s.t + s.rnd.uniform(2.0, 30.0), BACK_HOURS)
    s.add("First invoice sent", OUT, "email", None, True, "first_invoice", SYSTEM)
    if s.rnd.random() < 0.15:  # the first invoice raises a question
        s.t += s.rnd.uniform(3.0, 60.0)
        s.chase("first_invoice")
        contacts.mark(s, "department", contacts.moment_department(s.journey, "first_invoice"))
        s.later(0.05, 0.4)
        s.add("Question answered", OUT, s.channel, s.front, True, "first_invoice")
    s.close(activated_by)


def moving_house(s: Story, lateness: float) -> None:
    s.customer_contact("Move reported", "report_move")
    s.later(0.05, 0.4)
    proactive = s.rnd.random() < 0.5
    if s.channel in ("web", "app") and s.rnd.random() < 0.8:
        # self-service: the address is checked and the switchover planned online
        s.later(0.01, 0.1)
        s.add("Address check done", OUT, "email", None, True, "address_check", SYSTEM)
        _visit(s, None, "address_check", "switchover_day", "switchover_day", "Switchover visit", proactive,
               (2.0, 10.0), 0.12 * lateness)
        closer = None
    else:
        back = "gn-ts-orders"
        s.handoff("report_move")
        _callback(s, back, "Address check done", "address_check", 48.0, 0.12 * lateness, kind="reply_by")
        _visit(s, back, "address_check", "switchover_day", "switchover_day", "Switchover visit", proactive,
               (2.0, 10.0), 0.12 * lateness)
        closer = back
    s.t = next_open(s.t + s.rnd.uniform(2.0, 20.0), BACK_HOURS)
    s.add("Final settlement sent", OUT, "email", None, True, "final_settlement", SYSTEM)
    s.close(closer)


def billing_question(s: Story, lateness: float) -> None:
    s.customer_contact("Billing question asked", "ask_question")
    s.later(0.05, 0.5)
    if s.rnd.random() < 0.55:
        s.add("Question answered", OUT, s.channel if s.channel != "web" else "email", s.front, True,
              "explanation")
        s.close(s.front, "Case resolved")
        return
    back = "gn-billing-ops"
    s.handoff("explanation")
    kind = "reply_by" if s.channel == "email" else "resolved_by"
    p = s.promise(kind, s.t + (48.0 if kind == "reply_by" else 120.0), back)
    if s.rnd.random() < 0.10:
        _premature_close(s, back, "explanation")
    proactive = s.rnd.random() < 0.2
    work = next_open(s.t + s.rnd.expovariate(1 / 30.0), BACK_HOURS)
    if s.rnd.random() < 0.15 * lateness:
        work = max(work, next_open(p.due_at + s.rnd.uniform(2.0, 72.0), BACK_HOURS))
    s.wait(work, "correction", proactive, chase_after=50.0, p_chase=0.5)
    s.t = max(s.t, work)
    if s.rnd.random() < 0.12:
        s.add("Information requested", OUT, "email", back, True, "correction")
        s.later(0.01, 0.1)
        s.add("Waiting for customer", INT, None, back, False, "correction")
        s.t += s.rnd.uniform(3.0, 70.0)
        s.customer_contact("Customer sends information", "correction", "email")
        s.t = next_open(s.t + s.rnd.uniform(1.0, 20.0), BACK_HOURS)
    s.add("Invoice corrected", INT, None, back, False, "correction")
    s.later(0.1, 3.0)
    s.add("Correction confirmed", OUT, "email", back, True, "confirmation")
    p.fulfilled_at = s.t
    s.close(back, "Case resolved")


def cancellation(s: Story, lateness: float) -> None:
    s.customer_contact("Cancellation requested", "cancel_request")
    retention = "gn-cs-retention"
    s.later(0.05, 0.5)
    if s.channel == "phone":
        s.add("Retention offer made", OUT, "phone", retention, True, "retention_offer")
    else:
        s.handoff("cancel_request", "Handed to retention team")
        _callback(s, retention, "Retention offer made", "retention_offer", 48.0, 0.12 * lateness)
    if s.rnd.random() < 0.18:
        s.later(0.05, 0.3)
        s.add("Customer retained", OUT, "phone", retention, True, "retention_offer")
        s.close(retention)
        return
    s.later(0.1, 20.0)
    s.add("Cancellation confirmed", OUT, "email", retention, True, "cancel_confirmation")
    s.later(0.01, 0.2)
    s.add("Return label sent", OUT, "email", None, True, "equipment_return", SYSTEM)
    s.t += s.rnd.uniform(12.0, 80.0)
    s.add("Equipment received", INT, None, None, False, "equipment_return", SYSTEM)
    s.later(0.5, 8.0)
    s.add("Final invoice sent", OUT, "email", None, True, "final_invoice", SYSTEM)
    s.close(retention)


SCRIPTS = {
    "fault_repair": fault_repair,
    "new_connection": new_connection,
    "moving_house": moving_house,
    "billing_question": billing_question,
    "cancellation": cancellation,
}

# The customer's first channel per journey (channel: share).
FIRST_CHANNEL = {
    "fault_repair": {"phone": 0.60, "chat": 0.15, "app": 0.15, "web": 0.10},
    "new_connection": {"web": 0.60, "phone": 0.25, "app": 0.15},
    "moving_house": {"web": 0.50, "phone": 0.40, "app": 0.10},
    "billing_question": {"phone": 0.55, "chat": 0.20, "email": 0.15, "app": 0.10},
    "cancellation": {"phone": 0.60, "web": 0.30, "email": 0.10},
}


def tell(rnd: random.Random, journey: str, t0: float, segment: str) -> Story:
    """Tell the story of one case that starts at local hour ``t0``."""
    channels = FIRST_CHANNEL[journey]
    channel = rnd.choices(list(channels), weights=list(channels.values()))[0]
    front = "gn-cs-phone" if channel == "phone" else "gn-cs-chat"
    if journey == "cancellation" and channel == "phone":
        front = "gn-cs-retention"
    field_team = "gn-fs-north" if rnd.random() < 0.6 else "gn-fs-east"
    s = Story(rnd, journey, t0, channel, front, field_team, segment)
    # business customers get priority handling: fewer broken promises
    lateness = 0.7 if segment == "business" else 1.0
    SCRIPTS[journey](s, lateness)
    return s


def start_hour(rnd: random.Random, day: int) -> float:
    """When in the day a customer first reaches out: mostly office hours,
    a real share of evenings, some night owls."""
    u = rnd.random()
    if u < 0.80:
        h = rnd.uniform(8.0, 18.0)
    elif u < 0.94:
        h = rnd.uniform(18.0, 23.5)
    else:
        h = rnd.uniform(0.0, 8.0)
    return day * 24.0 + h
