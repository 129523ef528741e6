"""Write examples/rft-arithmetic: arithmetic word problems written for this project, for the RFT demo.

``python -m scripts.make_rft_arithmetic`` rewrites ``train.jsonl`` (120 problems with their
answers as ``reference_answer``) and ``responses.jsonl`` (one sample response per problem:
most right, some wrong, some with thousands separators), the same bytes every time.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "rft-arithmetic"
SYSTEM = "Solve the problem. End with the final answer as a number."
RECORDS = 120
SEED = 16

Problem = tuple[str, int]


def _shopping(r: random.Random) -> Problem:
    n, price, extra = r.randint(2, 9), r.randint(3, 40), r.randint(1, 15)
    return (
        f"A café sells muffins at {price} coins each. Maya buys {n} muffins and one "
        f"juice for {extra} coins. How many coins does she pay?",
        n * price + extra,
    )


def _distance(r: random.Random) -> Problem:
    speed, hours = r.randint(40, 95), r.randint(2, 7)
    return (
        f"A train runs at {speed} km per hour for {hours} hours without stopping. "
        "How many kilometres does it cover?",
        speed * hours,
    )


def _sharing(r: random.Random) -> Problem:
    people, each = r.randint(3, 12), r.randint(4, 30)
    return (
        f"{people * each} marbles are shared equally among {people} children. "
        "How many marbles does each child get?",
        each,
    )


def _ages(r: random.Random) -> Problem:
    child, gap, later = r.randint(4, 15), r.randint(20, 35), r.randint(3, 10)
    return (
        f"Omar is {child} years old and his aunt is {gap} years older. How old will his "
        f"aunt be in {later} years?",
        child + gap + later,
    )


def _percent(r: random.Random) -> Problem:
    price, off = r.randint(2, 40) * 20, r.choice([10, 15, 20, 25, 50])
    return (
        f"A lamp costs {price} dollars and is sold at {off}% off. What is the sale price "
        "in dollars?",
        price * (100 - off) // 100,
    )


def _warehouse(r: random.Random) -> Problem:
    crates, per, shipped = r.randint(30, 120), r.randint(12, 48), r.randint(100, 900)
    return (
        f"A warehouse holds {crates} crates of {per} bottles each, then ships {shipped} "
        "bottles. How many bottles are left?",
        crates * per - shipped,
    )


TEMPLATES: tuple[Callable[[random.Random], Problem], ...] = (
    _shopping,
    _distance,
    _sharing,
    _ages,
    _percent,
    _warehouse,
)


def problems() -> list[Problem]:
    """RECORDS distinct problems: a repeat would be a duplicate record the validator warns of."""
    r = random.Random(SEED)  # noqa: S311 - a reproducible dataset, not a secret
    found: dict[str, Problem] = {}
    index = 0
    while len(found) < RECORDS:
        question, answer = TEMPLATES[index % len(TEMPLATES)](r)
        found.setdefault(question, (question, answer))
        index += 1
    return list(found.values())


def _response(r: random.Random, answer: int, index: int) -> str:
    kind = index % 5
    if kind == 3:
        return f"Working it out step by step, I get {answer + r.choice([-2, -1, 1, 3])}."
    if kind == 4 and answer >= 1000:
        return f"The total comes to {answer:,}."
    return f"The answer is {answer}."


def main() -> None:
    r = random.Random(SEED + 1)  # noqa: S311 - reproducible sample responses
    rows, responses = [], []
    for index, (question, answer) in enumerate(problems()):
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": question},
                ],
                "reference_answer": str(answer),
            }
        )
        responses.append({"response": _response(r, answer, index)})
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, items in (("train.jsonl", rows), ("responses.jsonl", responses)):
        text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
        (FOLDER / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
