"""Composer of synthetic open answers ("why did you give this score?").

Comments are built from hand-written fragments in Dutch and English, each
fragment tied to the theme it is about and to a polarity; the score that
comes with the comment is drawn around a level set by how many negative and
positive fragments it holds, plus noise. So content and score are correlated
the way they are in real feedback, and every comment knows its causes (the
themes it was composed from) for recall tests.

Synthetic by construction: the same people wrote the fragments and the
lexicon, so figures measured on these comments flatter every method.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# (theme, polarity, nl variants, en variants)
FRAGMENTS: list[tuple[str, int, list[str], list[str]]] = [
    ("reachability_waiting", -1,
     ["ik heb {n} minuten in de wacht gestaan", "de klantenservice was onbereikbaar", "lang moeten wachten voordat ik iemand sprak",
      "na drie pogingen kwam ik er eindelijk door", "eindeloos wachtmuziek gehoord", "niemand nam op toen ik belde",
      "de wachttijd aan de telefoon was absurd"],
     ["I was on hold for {n} minutes", "your customer service was unreachable", "I had to wait ages before I spoke to someone",
      "it took three attempts to get through", "nobody answered when I called", "the waiting time on the phone was absurd",
      "I waited forever in the queue"]),
    ("kept_informed", -1,
     ["ik heb niets meer gehoord", "niemand hield me op de hoogte", "geen enkele terugkoppeling gekregen",
      "ik moest zelf steeds achter de status aan", "geen bericht ontvangen over de voortgang", "ik zat weken in het ongewisse"],
     ["I heard nothing for weeks", "nobody kept me informed", "I never got an update", "I had to chase the status myself",
      "no news about the progress at all", "I was kept in the dark"]),
    ("promise_not_kept", -1,
     ["ze zouden terugbellen maar dat is nooit gebeurd", "de belofte werd niet nagekomen", "er werd beloofd dat het binnen een week geregeld was, niet dus",
      "de toegezegde vergoeding kwam nooit", "ik werd niet teruggebeld zoals afgesproken"],
     ["they promised to call back and never did", "the promise was not kept", "I was told it would be sorted within a week, it was not",
      "the refund they promised never came", "nobody called back as agreed"]),
    ("repeat_yourself", -1,
     ["ik moest mijn verhaal steeds opnieuw uitleggen", "elke medewerker vroeg weer hetzelfde", "bij ieder gesprek moest ik van voren af aan beginnen",
      "ik heb het hele verhaal vier keer verteld"],
     ["I had to repeat my story every time", "every agent asked the same questions again", "I had to start from scratch with each call",
      "I explained the whole thing again four times"]),
    ("engineer_visit", -1,
     ["de monteur kwam niet opdagen", "ik heb voor niets een dag vrij genomen, de monteur kwam niet", "de monteur was drie uur te laat",
      "de monteur had de verkeerde onderdelen bij zich"],
     ["the engineer didn't show up", "I took the day off for nothing, no engineer came", "the technician was three hours late",
      "the engineer brought the wrong parts"]),
    ("invoice_clarity", -1,
     ["de factuur is totaal onduidelijk", "er is dubbel afgeschreven", "ik begrijp niets van de jaarafrekening",
      "de rekening klopt niet en niemand kan uitleggen waarom", "er staan kosten op de factuur die ik niet herken"],
     ["the invoice is completely unclear", "I was charged twice", "I can't make sense of the annual statement",
      "the bill is wrong and nobody can explain why", "there are charges on my invoice I don't recognise"]),
    ("price", -1,
     ["veel te duur voor wat je krijgt", "de prijs is alweer verhoogd", "de tarieven zijn belachelijk hoog"],
     ["far too expensive for what you get", "the price went up again", "the rates are ridiculously high"]),
    ("friendliness", -1,
     ["de medewerker was kortaf en onvriendelijk", "ik werd afgesnauwd", "de medewerker hing gewoon op"],
     ["the agent was rude and unfriendly", "I was snapped at", "the agent just hung up on me"]),
    ("competence", -1,
     ["de medewerker had geen idee waar het over ging", "ze wisten niet hoe het systeem werkte", "weinig verstand van zaken"],
     ["the agent had no idea what he was talking about", "they didn't know how their own system works", "the staff seemed clueless"]),
    ("first_time_right", -1,
     ["het probleem is nog steeds niet opgelost", "na de reparatie was het binnen een dag weer kapot", "de storing is er nog steeds"],
     ["the problem is still not fixed", "it broke again a day after the repair", "the fault is still there"]),
    ("website_selfservice", -1,
     ["inloggen op de website lukt niet", "de app geeft steeds een foutmelding", "het formulier op de site werkt niet"],
     ["I can't log in to the website", "the app keeps giving an error message", "the form on the website doesn't work"]),
    ("cancellation", -1,
     ["ik ga mijn contract opzeggen", "ik stap over naar een andere aanbieder", "nooit meer klant hier"],
     ["I am going to cancel my contract", "I'm switching to another provider", "I will cancel as soon as I can"]),
    # positive fragments
    ("friendliness", 1,
     ["de medewerker was heel vriendelijk", "vriendelijk en geduldig te woord gestaan", "een hele aardige medewerker aan de lijn"],
     ["the agent was very friendly", "I was treated kindly and patiently", "a really pleasant person on the phone"]),
    ("competence", 1,
     ["de medewerker wist precies wat er moest gebeuren", "duidelijke uitleg gekregen", "deskundig advies"],
     ["the agent knew exactly what to do", "I got a clear explanation", "knowledgeable advice"]),
    ("first_time_right", 1,
     ["het probleem was in één keer opgelost", "meteen opgelost", "alles is direct goed geregeld"],
     ["the problem was solved in one go", "it was fixed straight away", "everything was sorted out right away"]),
    ("reachability_waiting", 1,
     ["ik had binnen een minuut iemand aan de lijn", "ik kon direct iemand spreken"],
     ["I got through within a minute", "I could speak to someone straight away"]),
    ("kept_informed", 1,
     ["ik werd steeds netjes op de hoogte gehouden", "ik kreeg keurig een update per mail"],
     ["they kept me informed all the way", "I got a neat update by email"]),
    ("engineer_visit", 1,
     ["de monteur was op tijd en werkte netjes", "een vakkundige monteur die alles goed uitlegde"],
     ["the engineer was on time and tidy", "a skilled technician who explained everything"]),
    ("website_selfservice", 1,
     ["via de app kon ik het zelf snel regelen", "de website is overzichtelijk"],
     ["I could sort it myself quickly in the app", "the website is easy to use"]),
]

OPEN = {"nl": ["", "", "", "Tja, ", "Eerlijk gezegd: ", "Nou, "], "en": ["", "", "", "Well, ", "Honestly, ", "To be fair, "]}
CLOSE_NEG = {"nl": ["", "", " Jammer.", " Dit moet beter.", " Erg teleurgesteld.", " 😡"],
             "en": ["", "", " Shame.", " This needs to improve.", " Very disappointed.", " 😡"]}
CLOSE_POS = {"nl": ["", "", " Bedankt!", " Top!", " Tevreden.", " 👍"], "en": ["", "", " Thanks!", " Great!", " Happy.", " 👍"]}
JOIN = {"nl": [" en ", ". Ook ", ", bovendien ", ". "], "en": [" and ", ". Also ", ", plus ", ". "]}
CONTRAST = {"nl": [" maar ", ", maar ", ". Maar "], "en": [" but ", ", although ", ". However, "]}
PII = {"nl": [" Bel me op 06-{p}.", " Mail naar {e}@voorbeeld.nl.", " Mijn klantnummer is KL-{k}."],
       "en": [" Call me on +31 6 {p}.", " Email me at {e}@example.com.", " Customer number: {k}."]}

_SENT_START = re.compile(r"([.!?] )([a-z])")
NEG = [f for f in FRAGMENTS if f[1] < 0]
POS = [f for f in FRAGMENTS if f[1] > 0]


@dataclass(frozen=True)
class ComposedComment:
    text: str
    language: str
    score: int
    scale: str                 # 'nps' (0-10) or 'grade' (1-10)
    causes: tuple[str, ...]    # themes of the negative fragments
    praise: tuple[str, ...]    # themes of the positive fragments


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def compose_comments(n: int, seed: int = 0, scale: str = "nps", p_english: float = 0.35,
                     p_pii: float = 0.05) -> list[ComposedComment]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lang = "en" if rng.random() < p_english else "nl"
        li = 1 if lang == "en" else 0
        mood = rng.random()
        if mood < 0.40:
            k_neg, k_pos = int(rng.integers(1, 3)), int(rng.random() < 0.25)
        elif mood < 0.55:
            k_neg, k_pos = 1, 1
        else:
            k_neg, k_pos = 0, int(rng.integers(1, 3))
        negs = [NEG[i] for i in rng.choice(len(NEG), size=k_neg, replace=False)] if k_neg else []
        poss = [POS[i] for i in rng.choice(len(POS), size=k_pos, replace=False)] if k_pos else []

        def say(frag, li=li):
            s = frag[2 + li][int(rng.integers(len(frag[2 + li])))]
            return s.replace("{n}", str(int(rng.integers(15, 90))))

        neg_txt = JOIN[lang][int(rng.integers(4))].join(say(f) for f in negs)
        pos_txt = JOIN[lang][int(rng.integers(4))].join(say(f) for f in poss)
        if neg_txt and pos_txt:
            c = CONTRAST[lang][int(rng.integers(3))]
            body = pos_txt + c + neg_txt if rng.random() < 0.5 else neg_txt + c + pos_txt
            last_neg = body.endswith(neg_txt)
        else:
            body, last_neg = neg_txt or pos_txt, bool(neg_txt)
        text = OPEN[lang][int(rng.integers(6))] + body + "."
        text = _SENT_START.sub(lambda m: m.group(1) + m.group(2).upper(), _cap(text))
        closers = CLOSE_NEG if (k_neg > k_pos or (k_neg == k_pos and last_neg)) else CLOSE_POS
        text += closers[lang][int(rng.integers(6))]
        if rng.random() < p_pii:
            text += PII[lang][int(rng.integers(3))].format(
                p=f"{int(rng.integers(10**7, 10**8 - 1))}", e=f"klant{int(rng.integers(1000))}", k=int(rng.integers(10**5, 10**6)))
        # score: content sets the level, the contrast order nudges it, plus noise
        level = 8.6 + 0.6 * k_pos - 3.0 * k_neg + (0.6 if (k_neg and k_pos and not last_neg) else 0.0)
        level -= 0.8 if (k_neg and k_pos and last_neg) else 0.0
        raw = level + rng.normal(0, 1.1)
        if scale == "grade":
            score = int(np.clip(round(1 + raw * 0.9), 1, 10))
        else:
            score = int(np.clip(round(raw), 0, 10))
        out.append(ComposedComment(text, lang, score, scale,
                                   tuple(f[0] for f in negs), tuple(f[0] for f in poss)))
    return out
