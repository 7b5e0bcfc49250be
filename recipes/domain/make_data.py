"""Generate the domain recipe's data: a personal-finance advisor, as Alpaca JSONL.

Writes data/advisor.jsonl next to this script, one {"instruction", "input", "output"} object
per line. Regenerate with:

    python recipes/domain/make_data.py

Every sentence below was written for this project. Each topic has several ways to ask and
an answer template whose numbers are computed from the question (a budget split, a savings
goal, card interest), so a model has to learn the advice's shape and its arithmetic, not one
fixed string. A handful of deliberately bad records (empty, too short and far too long
answers) are mixed in so that the quality filter's counts are visible in `tuneforge data
inspect domain` and in each run's data_report.json. Deterministic (random.Random(11)),
standard library only.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

GOOD_RECORDS = 400


def money(value: float) -> str:
    return f"${value:,.0f}"


def emergency_fund(rng: random.Random) -> dict:
    expenses = rng.randrange(1200, 6000, 50)
    asks = [
        "How big should my emergency fund be?",
        "How much should I keep for emergencies?",
        "What is a good emergency fund target for me?",
    ]
    return {
        "instruction": rng.choice(asks),
        "input": f"My essential monthly expenses are {money(expenses)}.",
        "output": f"A common target is three to six months of essential expenses. With {money(expenses)} a month, "
        f"aim for {money(3 * expenses)} to {money(6 * expenses)}. Keep it in an insured high-yield "
        "savings account, not in stocks, so it is there when you need it. Lean toward six months if "
        "your income is irregular or you support others.",
    }


def budget_split(rng: random.Random) -> dict:
    pay = rng.randrange(1800, 9000, 100)
    asks = [
        "How should I split my paycheck?",
        "Can you suggest a simple monthly budget?",
        "How do I divide my income between needs, wants and savings?",
    ]
    return {
        "instruction": rng.choice(asks),
        "input": f"My take-home pay is {money(pay)} per month.",
        "output": f"Start from the 50/30/20 rule: about {money(0.5 * pay)} for needs (rent, groceries, "
        f"insurance, minimum debt payments), {money(0.3 * pay)} for wants, and {money(0.2 * pay)} for "
        "savings and extra debt payments. Track one month of spending first, then adjust the shares "
        "to your real costs.",
    }


def savings_goal(rng: random.Random) -> dict:
    goal = rng.randrange(1000, 30000, 500)
    months = rng.choice([6, 9, 12, 18, 24, 36])
    purpose = rng.choice(["a car", "a wedding", "a house deposit", "a trip", "a new laptop", "moving costs"])
    asks = [f"How much do I need to save each month for {purpose}?", f"I want to save for {purpose}. What is the plan?"]
    return {
        "instruction": rng.choice(asks),
        "input": f"Goal: {money(goal)} in {months} months.",
        "output": f"Divide the goal by the months: {money(goal)} / {months} = {money(goal / months)} per month. "
        "Set up an automatic transfer on payday into a separate savings account so the money is "
        "out of sight. If that amount is too high, extend the deadline or lower the goal.",
    }


def card_interest(rng: random.Random) -> dict:
    balance = rng.randrange(500, 12000, 100)
    apr = rng.choice([17.9, 19.9, 22.9, 24.9, 27.9, 29.9])
    monthly = balance * apr / 100 / 12
    asks = [
        "How much is my credit card debt costing me?",
        "Is carrying this card balance expensive?",
        "What does my credit card balance cost each month?",
    ]
    return {
        "instruction": rng.choice(asks),
        "input": f"Balance {money(balance)} at {apr}% APR.",
        "output": f"At {apr}% APR the interest is roughly {money(monthly)} a month ({money(balance)} x {apr}% / 12), "
        f"about {money(12 * monthly)} a year if the balance stays. Pay more than the minimum, stop "
        "adding new charges, and consider a balance transfer if you can clear it within the promo period.",
    }


def debt_order(rng: random.Random) -> dict:
    kinds = rng.sample(["credit card", "car loan", "student loan", "personal loan", "store card"], 3)
    pairs = list(zip(kinds, rng.sample([3.5, 4.9, 6.8, 9.5, 12.0, 18.9, 24.9], 3)))
    listing = "; ".join(f"{kind} at {rate}%" for kind, rate in pairs)
    first = max(pairs, key=lambda pair: pair[1])
    return {
        "instruction": rng.choice(["Which debt should I pay off first?", "How should I order my debt payments?"]),
        "input": f"My debts: {listing}.",
        "output": f"Pay the minimum on everything, then put every extra dollar on the {first[0]} at {first[1]}% "
        "(the avalanche method: highest rate first, which costs the least interest). When it is gone, "
        "roll that payment into the next highest rate.",
    }


def compound_growth(rng: random.Random) -> dict:
    monthly = rng.randrange(100, 1500, 50)
    years = rng.choice([10, 15, 20, 25, 30])
    rate = rng.choice([5, 6, 7])
    r = rate / 100 / 12
    future = monthly * ((1 + r) ** (12 * years) - 1) / r
    return {
        "instruction": rng.choice(
            ["What could my monthly investing grow to?", "How much will I have if I keep investing?"]
        ),
        "input": f"{money(monthly)} a month for {years} years at {rate}% a year.",
        "output": f"At {rate}% a year compounded monthly, {money(monthly)} a month for {years} years grows to about "
        f"{money(future)}, of which {money(monthly * 12 * years)} is your own contributions. Returns are "
        "not guaranteed; use a low-cost diversified fund and keep investing through downturns.",
    }


def retirement_rate(rng: random.Random) -> dict:
    age = rng.randrange(22, 50)
    salary = rng.randrange(30000, 150000, 1000)
    share = 15 if age < 35 else 20
    return {
        "instruction": rng.choice(["How much should I save for retirement?", "Am I saving enough for retirement?"]),
        "input": f"I am {age} and earn {money(salary)} a year.",
        "output": f"At {age}, aim to save about {share}% of your pay for retirement, roughly {money(salary * share / 100)} "
        f"a year or {money(salary * share / 1200)} a month, counting any employer match. Capture the full "
        "match first, then raise your rate by one point each year.",
    }


def debt_to_income(rng: random.Random) -> dict:
    debt = rng.randrange(300, 3500, 50)
    income = rng.randrange(3000, 12000, 100)
    ratio = debt / income * 100
    verdict = "healthy" if ratio < 36 else "high; lenders usually want it under 36%"
    return {
        "instruction": rng.choice(["What is my debt-to-income ratio?", "Is my debt load too high?"]),
        "input": f"Monthly debt payments {money(debt)}, gross monthly income {money(income)}.",
        "output": f"Your debt-to-income ratio is {money(debt)} / {money(income)} = {ratio:.0f}%, which is {verdict}. "
        "Lowering balances or raising income improves it before you apply for a mortgage.",
    }


def life_cover(rng: random.Random) -> dict:
    income = rng.randrange(25000, 140000, 1000)
    return {
        "instruction": rng.choice(["How much life insurance do I need?", "How big a term life policy should I get?"]),
        "input": f"I earn {money(income)} a year and have children.",
        "output": f"A simple rule is ten to twelve times your income: {money(10 * income)} to {money(12 * income)} of "
        "term life cover, for a term that lasts until your children are independent. Term insurance is "
        "far cheaper than whole life for the same cover.",
    }


GENERAL = [  # questions without an input, each with one reference answer
    (
        "How can I improve my credit score?",
        "Pay every bill on time, keep card balances below 30% of their limits, avoid opening many new accounts at once, "
        "and check your credit report for errors once a year.",
    ),
    (
        "Are index funds a good choice for beginners?",
        "Yes. A broad index fund spreads your money over hundreds of companies at a very low cost, so you do not need "
        "to pick winners. Invest regularly and hold for the long term.",
    ),
    (
        "Should I pay off my mortgage early or invest?",
        "Compare your mortgage rate with what you expect to earn after tax. A low fixed rate usually favors investing; "
        "a high rate or a wish for certainty favors extra payments. Build an emergency fund first either way.",
    ),
    (
        "What is the difference between a Roth and a traditional retirement account?",
        "A traditional account gives a tax deduction now and taxes withdrawals later; a Roth taxes the money now and "
        "lets qualified withdrawals come out tax free. Choose Roth if you expect a higher tax rate later.",
    ),
    (
        "Is it smart to buy a car with a loan?",
        "Only if the total cost fits your budget: keep the payment under about 10% of take-home pay, put money down, "
        "and choose a term of four years or less. A reliable used car often costs far less overall.",
    ),
    (
        "How do I start investing with little money?",
        "Open a low-cost brokerage account, pick a diversified index fund, and set up a small automatic monthly "
        "investment. Consistency matters more than the starting amount.",
    ),
    (
        "Should I rent or buy a home?",
        "Buying makes sense if you plan to stay at least five years and the total monthly cost, including taxes, "
        "insurance and repairs, is close to rent. Otherwise renting keeps you flexible.",
    ),
    (
        "What is dollar-cost averaging?",
        "Investing a fixed amount at regular intervals regardless of price. You buy more shares when prices are low "
        "and fewer when they are high, and it removes the temptation to time the market.",
    ),
]
GENERAL_PREFIXES = ["", "Quick question: ", "As a beginner, ", "I keep wondering: "]
TOPICS = [
    emergency_fund,
    budget_split,
    savings_goal,
    card_interest,
    debt_order,
    compound_growth,
    retirement_rate,
    debt_to_income,
    life_cover,
]

# Deliberately bad records: the quality filter (20-1500 characters, non-empty) must drop them.
BAD_RECORDS = [
    {"instruction": "How do I budget for holidays?", "input": "", "output": ""},
    {"instruction": "What is an emergency fund?", "input": "", "output": "   "},
    {"instruction": "Should I buy gold?", "input": "", "output": ""},
    {"instruction": "Is my budget fine?", "input": "Rent $900.", "output": "Yes."},
    {"instruction": "How do I save more?", "input": "", "output": "Spend less."},
    {"instruction": "Should I invest in crypto?", "input": "", "output": "It depends."},
    {
        "instruction": "Explain everything about taxes.",
        "input": "",
        "output": "Taxes are complicated and depend on many things. " * 40,
    },
    {
        "instruction": "Tell me all about retirement planning.",
        "input": "",
        "output": "Retirement planning means saving early and often, and reviewing it. " * 30,
    },
]


def general(rng: random.Random) -> dict:
    question, answer = rng.choice(GENERAL)
    prefix = rng.choice(GENERAL_PREFIXES)
    return {
        "instruction": prefix + (question[0].lower() + question[1:] if prefix else question),
        "input": "",
        "output": answer,
    }


def build(rng: random.Random) -> list[dict]:
    rows, seen = [], set()
    makers = TOPICS + [general]
    while len(rows) < GOOD_RECORDS:
        row = rng.choice(makers)(rng)
        key = (row["instruction"], row["input"])
        if key not in seen:
            seen.add(key)
            rows.append(row)
    rows += BAD_RECORDS
    rng.shuffle(rows)
    return rows


def main() -> None:
    rows = build(random.Random(11))
    out = Path(__file__).resolve().parent / "data" / "advisor.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} records ({len(BAD_RECORDS)} deliberately bad) -> {out}")


if __name__ == "__main__":
    main()
