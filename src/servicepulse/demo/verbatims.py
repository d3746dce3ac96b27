"""Open answers ("why?") composed from parts, about what really happened in the case.

A comment is an opener that matches the score, one to three cause fragments
about the causes of *this* case (a broken promise, hearing nothing, telling
the story again, the engineer, the invoice, friendly or competent staff, a
fix at the first go, ...), joined by connectors and ended by a closer, with
the small slips real people make (no capital, no full stop, a doubled
letter). Every part has several variants in Dutch and English, so the demo
holds hundreds of distinct texts per language.

Cause keys are the theme keys of the default code frame
(`servicepulse/kernels/text/data/codeframe.yaml`), so a text analysis can be checked
for recovering them: the loader stores the causes written into a comment in
the ``value_json`` of the response's ``why`` answer as
``{"causes": [...], "sentiment": {cause: "positive"|"negative"}}``.
"""

from __future__ import annotations

import random

# cause -> polarity -> language -> variants
FRAGMENTS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "promise_not_kept": {"negative": {
        "nl": ("ze zouden me terugbellen maar dat is nooit gebeurd",
               "de toezegging werd niet nagekomen",
               "er werd beloofd dat het binnen een dag geregeld zou zijn, niet dus",
               "ik ben niet teruggebeld terwijl dat wel beloofd was",
               "afspraak is afspraak, maar blijkbaar niet bij jullie",
               "weer een belofte die niet werd nagekomen"),
        "en": ("they promised to call me back but never did",
               "the promise was not kept",
               "I was promised it would be sorted within a day, it wasn't",
               "nobody called back even though they said they would",
               "another broken promise",
               "the commitment they made never happened"),
    }},
    "kept_informed": {
        "negative": {
            "nl": ("ik heb dagenlang niets gehoord",
                   "niemand hield me op de hoogte",
                   "ik zat in het ongewisse over wat er ging gebeuren",
                   "geen bericht, geen terugkoppeling, niks",
                   "ik moest zelf achter de status aan want ik werd niet geïnformeerd",
                   "de communicatie was ver te zoeken"),
            "en": ("I heard nothing for days",
                   "nobody kept me informed",
                   "I was kept in the dark about what would happen",
                   "no news, no update, nothing",
                   "I had to chase them myself because nobody gave me an update",
                   "the communication was poor"),
        },
        "positive": {
            "nl": ("ik werd steeds netjes op de hoogte gehouden",
                   "fijn dat ik een sms kreeg met een update voordat ik zelf hoefde te bellen",
                   "goede terugkoppeling over de voortgang",
                   "ik kreeg uit mezelf een bericht over de status"),
            "en": ("they kept me informed all the way",
                   "good to get a text update before I had to call myself",
                   "good updates on the progress",
                   "I got a status update without asking"),
        },
    },
    "repeat_yourself": {"negative": {
        "nl": ("ik moest mijn verhaal steeds opnieuw vertellen",
               "elke keer opnieuw uitleggen wat er aan de hand was",
               "bij iedere medewerker het hele verhaal weer doen",
               "ik heb het drie keer moeten uitleggen"),
        "en": ("I had to repeat my story every time",
               "I had to tell my story all over again",
               "every person I spoke to needed the whole story again",
               "I told my story three times"),
    }},
    "reachability_waiting": {"negative": {
        "nl": ("buiten kantoortijd is er niemand bereikbaar",
               "ik moest lang wachten voordat ik iemand aan de lijn had",
               "een half uur in de wacht gestaan",
               "'s avonds was niemand bereikbaar, pas de volgende dag",
               "wachten, wachten en nog eens wachten"),
        "en": ("nobody can be reached outside office hours",
               "I had to wait a long time before I got through",
               "I was on hold for half an hour",
               "in the evening nobody answered, only the next day",
               "the waiting time was far too long"),
    }},
    "engineer_visit": {
        "negative": {
            "nl": ("de monteur kwam niet opdagen",
                   "ik had een dag vrij genomen en de monteur kwam niet",
                   "voor niets een dag vrij genomen voor de monteur",
                   "het tijdvak voor de monteur werd niet gehaald"),
            "en": ("the engineer did not show up",
                   "I took the day off but the engineer was a no-show",
                   "I stayed home all day and the engineer did not turn up",
                   "the engineer missed the time slot"),
        },
        "positive": {
            "nl": ("de monteur was op tijd en werkte netjes",
                   "top monteur, keurig gewerkt",
                   "de monteur legde alles rustig uit",
                   "de installatie door de monteur ging vlot"),
            "en": ("the engineer was on time and tidy",
                   "great engineer, neat job",
                   "the engineer was quick and careful",
                   "the installation by the engineer went smoothly"),
        },
    },
    "first_time_right": {
        "positive": {
            "nl": ("meteen opgelost",
                   "in één keer goed geregeld",
                   "het probleem was direct geregeld",
                   "snel en in een keer opgelost"),
            "en": ("fixed straight away",
                   "sorted out in one go",
                   "solved the first time",
                   "the problem was resolved right away"),
        },
        "negative": {
            "nl": ("het werkt nog steeds niet goed",
                   "het probleem bestaat nog steeds",
                   "pas bij de tweede keer opgelost"),
            "en": ("it is still not working properly",
                   "still not fixed",
                   "only solved the second time"),
        },
    },
    "invoice_clarity": {"negative": {
        "nl": ("de factuur is onduidelijk",
               "er stond een vreemd bedrag op de rekening",
               "dubbel afgeschreven en dan moet je zelf achter de terugbetaling aan",
               "de afrekening klopt niet"),
        "en": ("the invoice is unclear",
               "there was a strange amount on the bill",
               "I was charged twice and the refund took weeks",
               "the final bill was wrong"),
    }},
    "price": {"negative": {
        "nl": ("het is gewoon te duur",
               "de prijsverhoging was de druppel",
               "elders is het goedkoper",
               "de maandelijkse kosten zijn hoog"),
        "en": ("it is simply too expensive",
               "the price increase was the last straw",
               "it is cheaper elsewhere",
               "the monthly fee is high"),
    }},
    "friendliness": {
        "positive": {
            "nl": ("de medewerker was erg vriendelijk",
                   "vriendelijke en geduldige medewerker",
                   "prettig gesprek met een behulpzame collega",
                   "ik werd netjes te woord gestaan"),
            "en": ("the agent was very friendly",
                   "friendly and patient staff",
                   "a pleasant conversation with a helpful person",
                   "they were polite and helpful"),
        },
        "negative": {
            "nl": ("de medewerker was kortaf",
                   "onvriendelijk te woord gestaan"),
            "en": ("the agent was rude",
                   "the person on the phone was unfriendly"),
        },
    },
    "competence": {
        "positive": {
            "nl": ("ze wisten precies wat er aan de hand was",
                   "deskundig advies gekregen",
                   "duidelijke uitleg",
                   "de medewerker had echt verstand van zaken"),
            "en": ("they knew exactly what the problem was",
                   "knowledgeable advice",
                   "a clear explanation",
                   "the agent was very competent"),
        },
        "negative": {
            "nl": ("de medewerker had geen idee",
                   "niemand wist waar het over ging"),
            "en": ("the agent had no idea",
                   "nobody seemed to know what was going on"),
        },
    },
    "website_selfservice": {
        "positive": {
            "nl": ("via de website was het zo geregeld",
                   "handig dat het in de app kan"),
            "en": ("the website made it easy",
                   "handy that I could do it in the app"),
        },
        "negative": {
            "nl": ("de website gaf steeds een foutmelding",
                   "inloggen op mijn account lukte niet"),
            "en": ("the website kept giving an error message",
                   "I could not log in to my account"),
        },
    },
    "cancellation": {"negative": {
        "nl": ("ik stap over naar een andere aanbieder",
               "daarom heb ik opgezegd",
               "ik overweeg een opzegging",
               "nooit meer glasvezel via jullie"),
        "en": ("I am switching to another provider",
               "that is why I cancelled",
               "I am thinking of cancelling",
               "never again"),
    }},
}

OPENERS = {
    "negative": {
        "nl": ("Slechte ervaring.", "Teleurgesteld.", "Wat een gedoe.", "Echt niet goed.", "Zeer ontevreden.", ""),
        "en": ("Bad experience.", "Disappointed.", "What a hassle.", "Really not good.", "Very unhappy.", ""),
    },
    "neutral": {
        "nl": ("Prima.", "Het was oké.", "Redelijk.", "Uiteindelijk goed gekomen.", ""),
        "en": ("Fine.", "It was OK.", "Reasonable.", "Got there in the end.", ""),
    },
    "positive": {
        "nl": ("Top!", "Heel tevreden.", "Uitstekende service.", "Super geholpen.", "Goed gedaan.", ""),
        "en": ("Great!", "Very happy.", "Excellent service.", "Really well helped.", "Well done.", ""),
    },
}
CONNECTORS = {
    "same": {"nl": (" en ", ". Ook ", ", ", ". Bovendien "), "en": (" and ", ". Also ", ", ", ". On top of that ")},
    "contrast": {"nl": (", maar ", ". Wel: ", ". Aan de andere kant "), "en": (", but ", ". Still, ", ". On the other hand ")},
}
CLOSERS = {
    "negative": {"nl": ("", "", "Doe er wat aan.", "Zo kan het niet.", "Jammer."),
                 "en": ("", "", "Do something about it.", "Not acceptable.", "Shame.")},
    "neutral": {"nl": ("", "", "Kan beter.", "Verder geen klachten."),
                "en": ("", "", "Could be better.", "No further complaints.")},
    "positive": {"nl": ("", "", "Dank jullie wel!", "Ga zo door.", "Aanrader."),
                 "en": ("", "", "Thank you!", "Keep it up.", "Recommended.")},
}


def tone(nps: int) -> str:
    return "negative" if nps <= 6 else ("neutral" if nps <= 8 else "positive")


def _slip(rnd: random.Random, text: str) -> str:
    """The small slips of real typing."""
    if rnd.random() < 0.15:
        text = text[:1].lower() + text[1:]
    if rnd.random() < 0.2 and text.endswith("."):
        text = text[:-1]
    if rnd.random() < 0.05:
        words = text.split(" ")
        i = rnd.randrange(len(words))
        w = words[i]
        if len(w) > 4 and w.isalpha():
            j = rnd.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j] + w[j:]  # a doubled letter
        text = " ".join(words)
    return text


def compose(rnd: random.Random, language: str, nps: int, causes: list[tuple[str, str]]) -> str:
    """One comment in ``language`` for a respondent who gave ``nps``, mentioning
    ``causes`` ((cause key, polarity) pairs, most important first)."""
    mood = tone(nps)
    # What the score says comes first: a promoter opens with what went well and a detractor with what went
    # wrong; the other side follows as a contrast ("..., maar ..."). With nothing on the score's side, the
    # opener and closer are neutral rather than a "Top!" before a complaint.
    if mood != "neutral":
        causes = sorted(causes, key=lambda c: c[1] != mood)
        if causes and causes[0][1] != mood:
            mood = "neutral"
    parts = []
    opener = rnd.choice(OPENERS[mood][language])
    previous = None
    for cause, polarity in causes:
        fragment = rnd.choice(FRAGMENTS[cause][polarity][language])
        if previous is None:
            parts.append(fragment[:1].upper() + fragment[1:])
        else:
            kind = "same" if polarity == previous else "contrast"
            parts.append(rnd.choice(CONNECTORS[kind][language]))
            parts.append(fragment)
        previous = polarity
    body = "".join(parts)
    if body and body[-1] not in ".!?":
        body += "!" if (tone(nps) == "negative" and rnd.random() < 0.25) else "."
    closer = rnd.choice(CLOSERS[mood][language])
    text = " ".join(p for p in (opener, body, closer) if p)
    return _slip(rnd, text)


def choose_causes(rnd: random.Random, journey: str, nps: int, drivers: dict[str, int],
                  moment_grades: dict[str, int], channel: str) -> list[tuple[str, str]]:
    """The causes a respondent writes about: the real events of the case first
    (strongest first), then what the moments and the journey suggest."""
    mood = tone(nps)
    candidates: list[tuple[str, str, float]] = []  # cause, polarity, weight

    def add(cause: str, polarity: str, weight: float) -> None:
        candidates.append((cause, polarity, weight))

    if drivers.get("broken_promise"):
        visit = min(moment_grades.get(k, 10) for k in ("engineer_visit", "installation", "switchover_day")) <= 5
        add("engineer_visit" if visit and rnd.random() < 0.5 else "promise_not_kept", "negative", 3.0)
    if drivers.get("dark_period_over_2_days") and not drivers.get("proactive_update"):
        add("kept_informed", "negative", 2.6)
    if drivers.get("reopened"):
        add("repeat_yourself", "negative", 2.2)
    elif drivers.get("repeat_contact") and rnd.random() < 0.5:
        add("repeat_yourself", "negative", 1.5)
    if drivers.get("after_hours_contact"):
        add("reachability_waiting", "negative", 1.4)
    if drivers.get("proactive_update"):
        add("kept_informed", "positive", 1.8)
    if drivers.get("first_time_right"):
        add("first_time_right", "positive", 1.6)
    elif drivers.get("reopened") and rnd.random() < 0.4:
        add("first_time_right", "negative", 1.0)
    for key in ("engineer_visit", "installation", "switchover_day"):
        g = moment_grades.get(key)
        if g is not None and g >= 9 and not drivers.get("broken_promise"):
            add("engineer_visit", "positive", 1.7)
            break
    if journey == "billing_question" or moment_grades.get("first_invoice", 10) <= 5 \
            or moment_grades.get("final_settlement", 10) <= 5:
        add("invoice_clarity", "negative", 1.3 if mood != "positive" else 0.3)
    if journey == "cancellation":
        add("price", "negative", 1.5)
        add("cancellation", "negative", 1.2)
    elif mood == "negative" and rnd.random() < 0.12:
        add("cancellation", "negative", 0.8)
    if channel in ("web", "app"):
        add("website_selfservice", "positive" if mood != "negative" else "negative", 0.6)
    if mood != "negative":
        add("friendliness", "positive", 1.2)
        add("competence", "positive", 0.9)
    elif rnd.random() < 0.25:
        add(rnd.choice(("friendliness", "competence")), "negative", 0.7)

    # the strongest one or two real causes, plus maybe one more by weight
    seen: set[str] = set()
    chosen: list[tuple[str, str]] = []
    k = 1 + (rnd.random() < 0.55) + (rnd.random() < 0.2)
    pool = sorted(candidates, key=lambda c: -c[2] * rnd.uniform(0.6, 1.4))
    for cause, polarity, _ in pool:
        if cause in seen:
            continue
        seen.add(cause)
        chosen.append((cause, polarity))
        if len(chosen) >= k:
            break
    return chosen


def comment_probability(nps: int) -> float:
    """Detractors write more often than promoters; many leave the box empty."""
    return 0.78 if nps <= 6 else (0.5 if nps <= 8 else 0.6)
