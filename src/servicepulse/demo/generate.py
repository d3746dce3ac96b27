"""The demo data in memory: customers, cases, events, promises, responses.

Pure computation (no database): `generate(size, seed)` returns a
:class:`DemoData` of pandas frames that `loader.py` writes. The same seed
and end date always give the same data (numpy's Generator and Python's Random,
both seeded from it; without an end date the window ends on the fixed
`stories.END_DATE`, otherwise it is moved by whole weeks, `stories.window_for`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from servicepulse.demo import contacts, effects, verbatims
from servicepulse.demo.catalogue import (
    JOURNEYS,
    LANGUAGE_SHARES,
    OPTED_OUT_SHARE,
    SEGMENT_SHARES,
    TEAM_BY_KEY,
)
from servicepulse.demo.stories import (
    END_H,
    WINDOW_DAYS,
    WINDOW_START,
    start_hour,
    tell,
    window_for,
)
from servicepulse.kernels.eventlog.facts import DEFAULT_CLOSING, FactsConfig, case_facts


@dataclass(frozen=True)
class SizeSpec:
    customers: int
    cases: int
    response_rate: float  # of closed cases of customers who did not opt out


# Targets (brief): small ~2k customers, 6k cases, 40k events, 2.5k responses;
# medium 10x; large 100x. `tiny` is for tests.
SIZES = {
    "tiny": SizeSpec(400, 1_200, 0.45),
    "small": SizeSpec(2_000, 6_000, 0.45),
    "medium": SizeSpec(20_000, 60_000, 0.45),
    "large": SizeSpec(200_000, 600_000, 0.45),
}

Progress = Callable[[str, int, int], None]

_FIRST_NAMES = ("Anna", "Bram", "Chantal", "Dirk", "Emma", "Frank", "Gerda", "Hans", "Iris", "Jeroen", "Karin",
                "Lars", "Maaike", "Niels", "Olga", "Pieter", "Rianne", "Sem", "Tessa", "Umut", "Vera", "Wim",
                "Yasmin", "Zeynep", "Aisha", "Bart", "Coen", "Dewi", "Esther", "Fleur")
_LAST_NAMES = ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos",
               "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Postma", "Hoekstra", "Kramer", "Wiersma",
               "Veenstra", "Brouwer", "Kok", "Yilmaz", "El Idrissi", "Nguyen", "Huisman", "Zijlstra", "Bosma")
_SEASON = {  # relative amplitude of a winter peak (+) or summer peak (-)
    "fault_repair": 0.35, "new_connection": 0.0, "moving_house": -0.4, "billing_question": 0.15, "cancellation": 0.1,
}


@dataclass
class DemoData:
    customers: pd.DataFrame
    cases: pd.DataFrame
    events: pd.DataFrame
    promises: pd.DataFrame
    drivers: pd.DataFrame  # per case (index: case number), effects.DRIVERS
    responses: pd.DataFrame
    moment_grades: pd.DataFrame  # response number, journey, moment key, grade
    first_day: date  # the window's local calendar days
    last_day: date


def _local_to_utc(hours: np.ndarray, start: date) -> pd.DatetimeIndex:
    """Local wall-clock hours since the window's first day -> UTC timestamps."""
    us = np.rint(np.asarray(hours, dtype=float) * 3_600).astype(np.int64) * 1_000_000  # whole seconds
    base = np.datetime64(start.isoformat(), "us")
    local = pd.DatetimeIndex(base + us.astype("timedelta64[us]"))
    # the autumn hour that exists twice is taken as winter time; the spring
    # hour that does not exist moves forward
    return local.tz_localize("Europe/Amsterdam", ambiguous=np.zeros(len(local), dtype=bool),
                             nonexistent="shift_forward").tz_convert("UTC")


def _customers(rng: np.random.Generator, n: int, start: date) -> pd.DataFrame:
    lang = rng.choice(list(LANGUAGE_SHARES), size=n, p=list(LANGUAGE_SHARES.values()))
    segment = rng.choice(list(SEGMENT_SHARES), size=n, p=list(SEGMENT_SHARES.values()))
    first = rng.choice(_FIRST_NAMES, size=n)
    last = rng.choice(_LAST_NAMES, size=n)
    numbers = np.arange(1, n + 1)
    ext = np.char.add("GN-K", np.char.zfill(numbers.astype(str), 7))
    email = [f"klant{i:07d}@example.com" for i in numbers]
    has_phone = rng.random(n) < 0.6
    phone = np.where(has_phone, np.char.add("+31 6 0000 ", np.char.zfill((numbers % 10_000).astype(str), 4)), None)
    opted = rng.random(n) < OPTED_OUT_SHARE
    since_days = rng.uniform(30, 6 * 365, n)
    created = _local_to_utc(-since_days * 24.0, start)
    opted_at = _local_to_utc(rng.uniform(0, END_H, n), start)
    return pd.DataFrame({
        "external_id": ext, "name": np.char.add(np.char.add(first, " "), last), "email": email, "phone": phone,
        "language": lang, "segment": segment,
        "opted_out_at": pd.Series(opted_at).where(opted, pd.NaT).to_numpy(),
        "created_at": created,
    })


def _case_starts(rng: np.random.Generator, journeys: np.ndarray) -> np.ndarray:
    """Start day of each case: seasonal per journey, quieter weekends."""
    days = np.arange(WINDOW_DAYS)
    weekday = (WINDOW_START.weekday() + days) % 7
    weekend = np.where(weekday >= 5, 0.7, 1.0)
    # day 0 is 1 November: winter peaks around day 75 (mid January)
    winter = np.cos((days - 75) / 365.0 * 2 * np.pi)
    out = np.empty(len(journeys), dtype=np.int64)
    for j in JOURNEYS:
        mask = journeys == j.key
        w = weekend * (1.0 + _SEASON[j.key] * winter)
        out[mask] = rng.choice(WINDOW_DAYS, size=int(mask.sum()), p=w / w.sum())
    return out


def generate(size: str = "small", seed: int = 2026, progress: Progress | None = None,
             end_date: date | None = None) -> DemoData:
    spec = SIZES[size]
    start, last_day = window_for(end_date)
    progress = progress or (lambda stage, done, total: None)
    rng = np.random.default_rng(seed)
    rnd = random.Random(seed)

    customers = _customers(rng, spec.customers, start)
    n = spec.cases
    shares = np.array([j.share for j in JOURNEYS])
    journeys = rng.choice([j.key for j in JOURNEYS], size=n, p=shares / shares.sum())
    # some customers have many cases, most one or two
    weight = rng.gamma(0.8, 1.0, spec.customers)
    customer_idx = rng.choice(spec.customers, size=n, p=weight / weight.sum())
    start_day = _case_starts(rng, journeys)
    order = np.lexsort((np.arange(n), start_day))  # case numbers follow time
    journeys, customer_idx, start_day = journeys[order], customer_idx[order], start_day[order]
    segments = customers["segment"].to_numpy()[customer_idx]

    # -- tell the stories --------------------------------------------------
    ev_case, ev_t, ev_act, ev_ch, ev_dir, ev_team, ev_cf, ev_mom, ev_actor = ([] for _ in range(9))
    pr_case, pr_kind, pr_made, pr_due, pr_ws, pr_done, pr_team = ([] for _ in range(7))
    ev_cause: list = []  # why each contact happened (demo/contacts.py)
    step = max(n // 50, 1)
    for i in range(n):
        s = tell(rnd, journeys[i], start_hour(rnd, int(start_day[i])), segments[i])
        ev_cause.extend(contacts.causes_of(s))
        for t, act, ch, direction, team, cf, mom, actor in s.events:
            ev_case.append(i); ev_t.append(t); ev_act.append(act); ev_ch.append(ch); ev_dir.append(direction)
            ev_team.append(team); ev_cf.append(cf); ev_mom.append(mom); ev_actor.append(actor)
        for p in s.promises:
            pr_case.append(i); pr_kind.append(p.kind); pr_made.append(p.made_at); pr_due.append(p.due_at)
            pr_ws.append(p.window_start); pr_done.append(p.fulfilled_at); pr_team.append(p.team)
        if i % step == 0:
            progress("stories", i, n)
    progress("stories", n, n)

    # -- events: cut at the end of the window, to UTC, ordered per case ---
    t = np.asarray(ev_t)
    keep = t < END_H  # the window ends at midnight after END_DATE
    ev = pd.DataFrame({
        "case": np.asarray(ev_case)[keep], "t": t[keep], "activity": np.asarray(ev_act, dtype=object)[keep],
        "channel": np.asarray(ev_ch, dtype=object)[keep], "direction": np.asarray(ev_dir, dtype=object)[keep],
        "team": np.asarray(ev_team, dtype=object)[keep], "customer_facing": np.asarray(ev_cf, dtype=bool)[keep],
        "moment": np.asarray(ev_mom, dtype=object)[keep], "actor": np.asarray(ev_actor, dtype=object)[keep],
    })
    ev = contacts.annotate(ev, [c for c, k in zip(ev_cause, keep) if k], seed)
    ev["told"] = np.arange(len(ev))  # story order breaks timestamp ties
    ev["occurred_at"] = _local_to_utc(ev["t"].to_numpy(), start)
    ev = ev.sort_values(["case", "occurred_at", "told"], kind="stable").reset_index(drop=True)
    ev["seq"] = ev.groupby("case").cumcount()
    ev["line"] = ev["team"].map({k: v.line for k, v in TEAM_BY_KEY.items()})
    ev["journey"] = journeys[ev["case"].to_numpy()]

    # -- cases ----------------------------------------------------------------
    first = ev.groupby("case")["occurred_at"].first()
    last = ev.groupby("case").tail(1).set_index("case")
    closing = last["activity"].str.contains(_closing_regex())
    last_team = ev.dropna(subset=["team"]).groupby("case")["team"].last()
    cases = pd.DataFrame({
        "journey": journeys, "customer": customer_idx,
        "external_id": [f"GN-Z{i + 1:08d}" for i in range(n)],
    })
    cases["opened_at"] = first.reindex(cases.index)
    cases["closed_at"] = last["occurred_at"].where(closing).reindex(cases.index)
    cases["last_team"] = last_team.reindex(cases.index)
    cases = cases[cases["opened_at"].notna()]
    # a customer whose first case is a new connection became a customer then
    first_case = cases.drop_duplicates("customer")
    new = first_case[first_case["journey"] == "new_connection"]
    created = customers["created_at"].copy()
    created.iloc[new["customer"].to_numpy()] = new["opened_at"].to_numpy()
    customers["created_at"] = created

    # -- promises: kept, broken or still open at the end of the window ---------
    pr = pd.DataFrame({"case": pr_case, "kind": pr_kind, "made": pr_made, "due": pr_due,
                       "ws": pd.array(pr_ws, dtype="Float64"), "done": pd.array(pr_done, dtype="Float64"),
                       "team": pr_team})
    pr = pr[pr["made"] < END_H].reset_index(drop=True)
    done = pr["done"].to_numpy(dtype=float, na_value=np.nan)
    due = pr["due"].to_numpy(dtype=float)
    kept = (done <= due) & (done < END_H)
    broken = ~kept & (due < END_H)
    pr["status"] = np.where(kept, "kept", np.where(broken, "broken", "open"))
    pr["made_at"] = _local_to_utc(pr["made"].to_numpy(), start)
    pr["due_at"] = _local_to_utc(due, start)
    pr["window_start"] = pd.Series(_local_to_utc(np.nan_to_num(pr["ws"].to_numpy(dtype=float, na_value=np.nan)), start))
    pr.loc[pr["ws"].isna().to_numpy(), "window_start"] = pd.NaT
    pr["kept_at"] = pd.Series(_local_to_utc(np.where(kept, done, 0.0), start)).where(kept)
    pr["broken_at"] = pd.Series(pr["due_at"]).where(broken)

    # -- case facts (the product's own kernel) and the drivers ----------------
    progress("facts", 0, 1)
    frame = pd.DataFrame({
        "case_id": ev["case"], "activity": ev["activity"], "timestamp": ev["occurred_at"], "file_order": ev["seq"],
        "direction": ev["direction"], "channel": ev["channel"], "team": ev["team"], "line": ev["line"],
        "customer_facing": ev["customer_facing"],
    })
    facts = case_facts(frame, config=FactsConfig())
    facts.index = facts.index.astype(np.int64)
    broken_by_case = pr.loc[pr["status"] == "broken"].groupby("case").size() > 0
    proactive = ev.loc[ev["activity"] == effects.PROACTIVE_ACTIVITY].groupby("case").size() > 0
    drivers = effects.driver_frame(facts, broken_by_case, proactive)
    progress("facts", 1, 1)

    responses, grades = _responses(rng, rnd, cases, customers, ev, drivers, spec, progress, start)
    return DemoData(customers, cases, ev, pr, drivers, responses, grades, start, last_day)


def _closing_regex():
    """The kernel's closing pattern, compiled (non-capturing, for pandas)."""
    return re.compile(DEFAULT_CLOSING.replace("(", "(?:"), re.IGNORECASE)


def _responses(rng, rnd, cases, customers, ev, drivers, spec, progress, start):
    """Who answers the journey-end survey, and what they answer."""
    progress("responses", 0, 1)
    closed = cases[cases["closed_at"].notna()]
    opted = customers["opted_out_at"].notna().to_numpy()[closed["customer"].to_numpy()]
    answer = (rng.random(len(closed)) < spec.response_rate) & ~opted
    resp = closed[answer].copy()
    delay_h = np.minimum(rng.lognormal(np.log(8.0), 1.0, len(resp)), 240.0)
    resp["submitted_at"] = resp["closed_at"] + pd.to_timedelta(np.rint(delay_h * 3600), unit="s")
    end_utc = _local_to_utc(np.array([END_H]), start)[0]
    resp = resp[resp["submitted_at"] < end_utc]
    resp["case"] = resp.index
    resp = resp.reset_index(drop=True)
    resp["language"] = customers["language"].to_numpy()[resp["customer"].to_numpy()]
    # asked by text message only when the customer has a mobile number (demo/invitations.py sends it there)
    has_phone = customers["phone"].notna().to_numpy()[resp["customer"].to_numpy()]
    resp["channel"] = np.where((rng.random(len(resp)) < 0.75) | ~has_phone, "email", "sms")
    resp["external_id"] = [f"GN-R{i + 1:08d}" for i in range(len(resp))]

    # which moments each case went through: every moment up to the furthest
    # one its events reached (a wait without any event was still a wait)
    position = {(j.key, m.key): i for j in JOURNEYS for i, m in enumerate(j.moments)}
    tagged = ev.dropna(subset=["moment"])
    pos = pd.Series([position[k] for k in zip(tagged["journey"].tolist(), tagged["moment"].tolist())],
                    index=tagged.index)
    reached = pos.groupby(tagged["case"]).max()
    d = drivers.reindex(resp["case"]).to_numpy(dtype=float)
    moment_term = np.zeros(len(resp))
    grade_rows = []
    for j in JOURNEYS:
        rows = np.flatnonzero(resp["journey"].to_numpy() == j.key)
        reached_j = reached.reindex(resp["case"].to_numpy()[rows]).fillna(-1).to_numpy()
        for i, m in enumerate(j.moments):
            g = effects.moment_grades(d[rows], m.kind, m.base, m.key, rng).astype(float)
            seen = reached_j >= i
            g[~seen] = np.nan
            moment_term[rows] += effects.moment_contribution(g, m.kind)
            grade_rows.append(pd.DataFrame({"response": rows[seen], "journey": j.key, "moment": m.key,
                                            "grade": g[seen].astype(np.int16)}))
    scores = effects.overall_scores(d, moment_term, rng, journeys=resp["journey"].to_numpy())
    resp["nps"], resp["grade"], resp["ces"] = scores.nps, scores.grade, scores.ces
    grades = pd.concat(grade_rows, ignore_index=True).sort_values(["response", "journey"], kind="stable")

    # verbatims
    by_resp: dict[int, dict[str, int]] = {}
    for r, m, g in zip(grades["response"].tolist(), grades["moment"].tolist(), grades["grade"].tolist()):
        by_resp.setdefault(r, {})[m] = g
    first_channel = ev.groupby("case")["channel"].first()
    comments, causes = [], []
    drv_cols = list(effects.DRIVERS)
    nps_l = resp["nps"].tolist()
    for r, (case, journey, lang) in enumerate(zip(resp["case"].tolist(), resp["journey"].tolist(),
                                                  resp["language"].tolist())):
        nps = int(nps_l[r])
        if rnd.random() >= verbatims.comment_probability(nps):
            comments.append(None)
            causes.append(None)
            continue
        drv = dict(zip(drv_cols, d[r].astype(int).tolist()))
        chosen = verbatims.choose_causes(rnd, journey, nps, drv, by_resp.get(r, {}), first_channel.get(case))
        comments.append(verbatims.compose(rnd, lang, nps, chosen))
        causes.append(chosen)
    resp["comment"] = comments
    resp["causes"] = causes
    progress("responses", 1, 1)
    return resp, grades
