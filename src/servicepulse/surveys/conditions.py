"""A tiny, safe condition language for score-dependent prompts (no eval).

Grammar: comparisons joined by `and` / `or` (`and` binds tighter), e.g.
``nps <= 6``, ``nps >= 7 and nps <= 8``, ``grade < 6 or ces <= 3``.
A comparison is ``<question key> <op> <number>`` with op one of
``< <= > >= == !=``. A comparison on a question that was not answered is false.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

_COMPARISON = re.compile(r"^\s*([a-z][a-z0-9_]{0,59})\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}
MAX_CONDITION_LENGTH = 200


class ConditionError(ValueError):
    """The condition text does not follow the grammar; the message says what is wrong."""


@dataclass(frozen=True)
class Comparison:
    key: str
    op: str
    value: float

    def holds(self, answers: dict) -> bool:
        answer = answers.get(self.key)
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            return False
        return _OPS[self.op](answer, self.value)


@dataclass(frozen=True)
class Condition:
    """Disjunction of conjunctions of comparisons."""

    any_of: tuple[tuple[Comparison, ...], ...]

    def holds(self, answers: dict) -> bool:
        return any(all(c.holds(answers) for c in group) for group in self.any_of)

    def keys(self) -> set[str]:
        return {c.key for group in self.any_of for c in group}


def parse(text: str) -> Condition:
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition must be a non-empty text such as 'nps <= 6'")
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionError(f"a condition may be at most {MAX_CONDITION_LENGTH} characters")
    groups = []
    for part in re.split(r"\s+or\s+", text.strip()):
        group = []
        for piece in re.split(r"\s+and\s+", part):
            match = _COMPARISON.match(piece)
            if match is None:
                raise ConditionError(
                    f"cannot read {piece.strip()!r}: write '<question key> <op> <number>' "
                    "with op one of <, <=, >, >=, ==, !=, joined by 'and' / 'or'"
                )
            group.append(Comparison(match[1], match[2], float(match[3])))
        groups.append(tuple(group))
    return Condition(tuple(groups))
