"""Write the tabular example's table, `data/sources/churn.csv` of the generated project.

Synthetic customers of a subscription service, made to look like a real export:
numeric, categorical, boolean and date columns, missing values, a rare category,
skewed counts and outliers, and a label that depends on the inputs through noise,
so classes overlap and test scores say something (neither 0.5 nor 1.0).

    .venv/bin/python -m tools.example_data   # rewrites the file in the template; seeded, so stable

Standard library only, so the template's own environment runs it.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path

OUTPUT = (
    Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}/data/sources/churn.csv"
)
ROWS = 2000
SEED = 7
COLUMNS = (
    "customer_id",
    "signup_date",
    "plan",
    "region",
    "monthly_fee",
    "tenure_months",
    "support_calls",
    "usage_hours",
    "last_login_days",
    "autopay",
    "churned",
)
PLANS = {"basic": (0.5, 10.0), "standard": (0.35, 20.0), "premium": (0.15, 35.0)}
REGIONS = {
    "north": 0.3,
    "south": 0.26,
    "east": 0.22,
    "west": 0.205,
    "islands": 0.01,
    "overseas": 0.005,
}
MISSING = {"usage_hours": 0.06, "plan": 0.02, "last_login_days": 0.03}


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: fine for the small means used here)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _customer(rng: random.Random, index: int) -> dict[str, object]:
    signup = date(2022, 1, 1) + timedelta(days=rng.randrange(4 * 365))
    tenure = (date(2026, 1, 1) - signup).days / 30.4 * rng.uniform(0.4, 1.0)
    plan = rng.choices(list(PLANS), weights=[share for share, _ in PLANS.values()])[0]
    unhappy = rng.gauss(0, 1)
    last_login = rng.expovariate(1 / (6 + 4 * max(unhappy, 0)))
    if rng.random() < 0.01:
        last_login = rng.uniform(300, 900)  # an outlier: a dormant account
    autopay = rng.random() < 0.55
    logistic_noise = math.log(1 / rng.uniform(1e-9, 1) - 1)
    score = (
        -1.3
        + 0.9 * unhappy
        + 0.5 * (plan == "basic")
        - 0.6 * autopay
        - 0.02 * tenure
        + 0.03 * min(last_login, 60)
        + logistic_noise
    )
    row: dict[str, object] = {
        "customer_id": f"C{index:05d}",
        "signup_date": signup.isoformat(),
        "plan": plan,
        "region": rng.choices(list(REGIONS), weights=list(REGIONS.values()))[0],
        "monthly_fee": round(PLANS[plan][1] + rng.gauss(0, 3), 2),
        "tenure_months": round(tenure, 1),
        "support_calls": _poisson(rng, math.exp(0.2 + 0.6 * unhappy)),
        "usage_hours": round(rng.gammavariate(2.0, 6.0) * math.exp(-0.3 * unhappy), 1),
        "last_login_days": round(last_login, 1),
        "autopay": autopay,
        "churned": "yes" if score > 0 else "no",
    }
    for column, share in MISSING.items():
        if rng.random() < share:
            row[column] = ""
    return row


def churn_table(rows: int = ROWS, seed: int = SEED) -> list[dict[str, object]]:
    """The example table, oldest signup first; the same ``seed`` gives the same rows."""
    rng = random.Random(seed)
    table = [_customer(rng, index) for index in range(rows)]
    return sorted(table, key=lambda row: str(row["signup_date"]))


def main(argv: list[str] | None = None) -> int:
    """Write the table (to the template by default)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    table = churn_table()
    with args.output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(table)
    share = sum(row["churned"] == "yes" for row in table) / len(table)
    print(f"Wrote {len(table)} rows to {args.output} ({share:.0%} churned)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
