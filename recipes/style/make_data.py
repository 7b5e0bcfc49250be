"""Generate the style corpus: blog articles by one fictional author, Tess Harrow ("Field Notes").

Writes data/articles/<slug>/index.md and data/articles/<slug>/meta.json next to this script, the
layout of a blog backup. Regenerate with:

    python recipes/style/make_data.py

Her style, on purpose easy to recognise: short, punchy sentences and fragments; em-dashes for
asides; the opener "Here's the thing."; questions she answers herself ("Is it perfect? No.");
second person; and every article ends with her sign-off line, "Small loops win."

Each article also carries what a real blog export carries, so the cleaner has work: YAML front
matter, headings, links, an image, a code fence, inline code, a list, a block quote, an HTML aside,
an HTML comment and a <br>. One article is a draft (meta.json "draft": true), skipped by default.
Every sentence below was written for this project. Deterministic (random.Random(4)), standard library only.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

SIGN_OFF = "Small loops win."
OPENERS = [
    "Here's the thing. {Thing} is not hard — we make it hard.",
    "I used to dread {thing}. Not anymore.",
    "Everyone has an opinion on {thing}. Here's mine — the short version.",
    "Let's talk about {thing}. Briefly. I promise.",
    "Here's the thing. Nobody teaches {thing}. You pick it up — usually the painful way.",
]
GENERIC = [
    "{Fix}. That's it. That's the trick.",
    "You don't need a framework for this — you need a habit.",
    "Most teams {habit}. Don't.",
    "It feels slow. It isn't.",
    "The fix is boring — {fix}.",
    "Write it down. Then write it down again, shorter.",
    "{Pain}? Been there. Twice.",
    "Nobody remembers the clever version — they remember the one that worked.",
    "Start small — smaller than feels reasonable.",
    "Measure first. Argue later.",
    "Here's what I do, every single time: {fix}.",
    "Is it perfect? No. Is it better? Yes — by a mile.",
    "{Thing} rewards patience. And punishes heroics.",
    "One change. One reason. One commit.",
    "Sounds obvious. It is. We still skip it.",
    "You will want to {habit}. Resist.",
    "The goal is not speed. The goal is {win}.",
    "Does it scale? Sure — if you keep it small.",
    "I learned this the hard way — at two in the morning, with coffee going cold.",
    "Keep the loop tight. Look. Change. Look again.",
    "Ask one question: what breaks if I stop here?",
    "That's not laziness. That's focus.",
    "Big plans are fun. Small steps ship.",
    "Don't wait for permission — {fix}.",
    "Nobody is coming to fix {thing} for you.",
    "Short beats clever. Every time.",
    "Think of {win}. Now work backwards.",
    "Ugly first. Pretty later. Maybe never.",
    "Here's the thing — {pain} is a symptom, not the disease.",
    "Ten minutes. That's all it takes.",
    "I tried the other way. For a year. It did not go well.",
    "The tools help. The habit matters more.",
    "Be honest — how often do you {habit}?",
    "Stop polishing. Ship it. Then listen.",
    "A checklist beats a memory. Always.",
    "Your future self is a stranger. Be kind to them.",
    "Does this feel like cheating? Good.",
    "Fewer moving parts — fewer surprises.",
    "No drama. No heroics. Just the next small step.",
    "The first version will be wrong. That's the point.",
    "Make it easy to do the right thing — and awkward to do the wrong one.",
    "Count the steps. Then cut one.",
    "Nothing fancy. Nothing clever. It works.",
    "Read that again. Slowly.",
    "Tired teams {habit}. Rested teams {fix}.",
    "You know the feeling — {pain}, and a deadline on top.",
    "I keep a sticky note on my screen. It says: {fix}.",
    "Progress is quiet. Mostly.",
    "It's not glamorous — it's just what works.",
    "What did it cost? An afternoon. What did it save? Weeks.",
    "Simple is a decision, not an accident.",
    "Don't trust the plan — trust the loop.",
    "There's always a reason to {habit}. It's rarely a good one.",
    "The boring path is the fast path.",
    "Small, visible, reversible. In that order.",
    "Yes, really.",
    "Try it for a week. Then tell me I'm wrong.",
    "Notice what changed — and what didn't.",
    "Friction is information. Listen to it.",
    "Slow down to speed up. Cliché? Sure. True? Also yes.",
]
CLOSERS = [
    "So — {fix}. Start today. Start small.",
    "That's the whole thing. {Fix}, and keep going.",
    "Next time you feel the urge to {habit}, stop. Take the small step instead.",
    "You don't need permission. You need ten minutes — and the nerve to {fix}.",
]
ASIDES = [
    "Quick aside — I changed my mind about this twice while writing it.",
    "Quick aside — yes, I see the irony.",
    "Quick aside — this is the part everyone skips.",
]
COMMENTS = ["TODO: find a better example", "draft note: shorten the intro", "remember to add the diagram"]

# Topic by topic: title, tags, the phrases the templates use, and lines only that article has.
TOPICS = [
    dict(
        slug="code-review",
        title="Review the Small Diff",
        tags=["teams", "code review"],
        thing="code review",
        fix="review in small batches",
        habit="save every review for Friday afternoon",
        pain="a two-thousand-line diff",
        win="a diff your teammate can read over one coffee",
        heads=["Why big reviews fail", "What I do instead"],
        link=("my review checklist", "https://example.com/review"),
        code=("bash", "git diff --stat main...HEAD\ngit add -p"),
        quote="A review is a conversation, not a verdict.",
        bullets=["Under three hundred lines.", "One idea per change.", "A sentence that says why."],
        lines=[
            "Nobody reads line 1,400 of a diff. Nobody.",
            "Approval without reading is not approval — it's a shrug.",
            "Split the refactor from the feature. Always.",
            "Ask for the review early — before you are attached.",
        ],
    ),
    dict(
        slug="on-call",
        title="Notes From the Pager",
        tags=["operations"],
        thing="being on call",
        fix="write the runbook while the incident is fresh",
        habit="silence the alert and hope",
        pain="a page at three in the morning",
        win="a quiet night and a boring dashboard",
        heads=["The alert is a question", "After the fire"],
        link=("the runbook template", "https://example.com/runbook"),
        code=("bash", "journalctl -u api --since '10 min ago' | tail -n 50"),
        quote="Every alert should tell you what to do next.",
        bullets=["Who is affected?", "What changed?", "Can we roll back?"],
        lines=[
            "An alert nobody acts on is noise. Delete it.",
            "Roll back first. Investigate second.",
            "The pager is a teacher. A loud one.",
            "Hand-offs matter — write the note you wish you'd received.",
        ],
    ),
    dict(
        slug="naming-things",
        title="Name It Twice",
        tags=["craft"],
        thing="naming things",
        fix="rename it the moment it feels wrong",
        habit="call everything manager or helper",
        pain="a variable called data2",
        win="code that reads like a sentence",
        heads=["Names are small documentation", "The second name"],
        link=("a longer rant", "https://example.com/names"),
        code=("python", "def overdue_invoices(invoices, today):\n    return [i for i in invoices if i.due < today]"),
        quote="If you can't name it, you don't understand it yet.",
        bullets=["Say what it is.", "Drop the type from the name.", "Prefer boring words."],
        lines=[
            "The first name is a guess. The second name is a decision.",
            "A good name deletes a comment.",
            "Long names are fine. Vague names are not.",
            "Rename freely — the editor does the work.",
        ],
    ),
    dict(
        slug="deleting-code",
        title="Delete More Code",
        tags=["craft", "maintenance"],
        thing="deleting code",
        fix="delete one unused thing every week",
        habit="keep dead code just in case",
        pain="a feature flag nobody remembers",
        win="a smaller codebase that does the same job",
        heads=["Just in case is a trap", "How to delete safely"],
        link=("the flag audit", "https://example.com/flags"),
        code=("bash", "git log --since='6 months ago' --format=%H -- src/legacy | wc -l"),
        quote="The best code is the code you no longer have to read.",
        bullets=["Check the logs.", "Remove the call sites.", "Delete the rest."],
        lines=[
            "Version control remembers. You don't have to.",
            "Dead code still costs — in reading time.",
            "Deleting feels risky. Keeping it is riskier.",
            "My favourite pull requests are red.",
        ],
    ),
    dict(
        slug="writing-docs",
        title="Docs Nobody Reads",
        tags=["writing", "teams"],
        thing="writing docs",
        fix="write the one page a newcomer needs on day one",
        habit="write docs after the project ends",
        pain="a wiki page from four years ago",
        win="a newcomer shipping on day two",
        heads=["Write for Tuesday morning", "Keep it alive"],
        link=("the one-page template", "https://example.com/onepage"),
        code=("markdown", "## Run it\n\nmake setup && make test"),
        quote="Docs are a product. Somebody uses them — or nobody does.",
        bullets=["How to run it.", "How to change it.", "Who to ask."],
        lines=[
            "Nobody reads docs. They search them. Write for search.",
            "A README is a promise. Keep it.",
            "Out-of-date docs are worse than none — they lie with confidence.",
            "Put the docs next to the code. Review them together.",
        ],
    ),
    dict(
        slug="estimates",
        title="Estimates Are Guesses",
        tags=["planning"],
        thing="estimating work",
        fix="split the work until each piece fits in a day",
        habit="promise a date before you read the code",
        pain="a two-week task in its second month",
        win="a plan that survives contact with Monday",
        heads=["Why we are always late", "Smaller pieces"],
        link=("my planning sheet", "https://example.com/plan"),
        code=("python", "pieces = [task for task in backlog if task.days <= 1]\nprint(len(pieces), 'ready')"),
        quote="An estimate is a guess wearing a tie.",
        bullets=["Split it.", "Size it in days, not weeks.", "Re-plan every Friday."],
        lines=[
            "Nobody can estimate a month. Everybody can estimate a day.",
            "Say the range — not the number.",
            "Unknowns are not padding. Name them.",
            "Late is information. Use it early.",
        ],
    ),
    dict(
        slug="meetings",
        title="Fewer, Shorter Meetings",
        tags=["teams"],
        thing="meetings",
        fix="end every meeting with one written decision",
        habit="book an hour because the calendar offers one",
        pain="a meeting about the meeting",
        win="a calendar with room to think",
        heads=["The hour is a default", "Decide, then leave"],
        link=("the agenda template", "https://example.com/agenda"),
        code=("text", "Decision:\nOwner:\nBy when:"),
        quote="If there is no decision, it was a chat.",
        bullets=["An agenda, or no meeting.", "Twenty-five minutes.", "Notes in the invite."],
        lines=[
            "Most meetings could be a message. Some should be a walk.",
            "Invite fewer people. Then fewer again.",
            "Silence in a meeting is not agreement.",
            "Cancel the recurring one. See who notices.",
        ],
    ),
    dict(
        slug="flaky-tests",
        title="Flaky Tests Lie",
        tags=["testing"],
        thing="flaky tests",
        fix="quarantine a flaky test the day it flakes",
        habit="hit rerun until it goes green",
        pain="a red build nobody believes",
        win="a build people trust again",
        heads=["Green means nothing now", "Quarantine, then fix"],
        link=("the flake tracker", "https://example.com/flakes"),
        code=("bash", "pytest tests/ -x -q -p no:randomly --count 20"),
        quote="A test you don't trust is a test you don't have.",
        bullets=["Tag it.", "Move it out of the main run.", "Fix it within a week."],
        lines=[
            "Rerun culture is a slow leak.",
            "Time is the usual suspect. Then order. Then the network.",
            "A flaky test trains people to ignore red.",
            "Fix the flake — or delete the test. Pick one.",
        ],
    ),
    dict(
        slug="refactoring",
        title="Refactor on the Way",
        tags=["craft", "maintenance"],
        thing="refactoring",
        fix="leave each file a little better than you found it",
        habit="plan a big rewrite for next quarter",
        pain="a rewrite that never shipped",
        win="a codebase that gets easier every month",
        heads=["The rewrite fantasy", "Tidy as you pass"],
        link=("notes on small refactors", "https://example.com/tidy"),
        code=("python", "total = sum(line.price * line.qty for line in order.lines)"),
        quote="Make the change easy. Then make the easy change.",
        bullets=["Rename.", "Extract.", "Delete."],
        lines=[
            "Big rewrites are bets. Small refactors are savings.",
            "Tests first. Then move things.",
            "Refactor in its own commit — reviewers will thank you.",
            "The mess took years. So will the cleanup.",
        ],
    ),
    dict(
        slug="side-projects",
        title="Tiny Side Projects",
        tags=["learning"],
        thing="side projects",
        fix="give every side project one evening and one goal",
        habit="buy a domain before writing a line",
        pain="a folder of half-built apps",
        win="something small that actually runs",
        heads=["Scope is the enemy", "Finish something"],
        link=("my list of tiny ideas", "https://example.com/ideas"),
        code=("bash", "mkdir tiny && cd tiny && git init"),
        quote="Finished and small beats grand and abandoned.",
        bullets=["One evening.", "One feature.", "One screenshot."],
        lines=[
            "The best side project is the one you finish.",
            "Motivation fades. Tiny scope doesn't.",
            "Show it to one person. Just one.",
            "Boring stack. Fun problem.",
        ],
    ),
    dict(
        slug="new-language",
        title="Learning a Language in Small Bites",
        tags=["learning"],
        thing="learning a new language",
        fix="write one tiny program a day",
        habit="read the whole book before typing anything",
        pain="a tutorial you never finished",
        win="a language that feels like yours",
        heads=["Type, don't read", "Thirty days"],
        link=("my thirty-day log", "https://example.com/log"),
        code=("go", 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("day one") }'),
        quote="You learn a language with your fingers.",
        bullets=["Day one: print something.", "Day two: read a file.", "Day three: break it."],
        lines=[
            "Reading is not learning. Typing is.",
            "Compiler errors are free lessons.",
            "Rewrite something you already know — it makes the new parts obvious.",
            "Thirty tiny programs beat one big one.",
        ],
    ),
    dict(
        slug="saying-no",
        title="Say No, Kindly",
        tags=["teams", "focus"],
        thing="saying no",
        fix="say no to one thing before you say yes to the next",
        habit="say yes to be liked",
        pain="five urgent projects and no finished ones",
        win="one thing done properly",
        heads=["Yes is expensive", "How I say no"],
        link=("a script for saying no", "https://example.com/no"),
        code=("text", "Not this quarter. Here's why — and here's who might help."),
        quote="Every yes is a no to something else.",
        bullets=["Thank them.", "Say what you are working on.", "Offer the next best thing."],
        lines=[
            "No is a complete sentence. Add a kind one anyway.",
            "Your calendar is your real strategy.",
            "Nobody thanks you for doing five things badly.",
            "Saying no early is the kind version.",
        ],
    ),
    dict(
        slug="logging",
        title="Logs You Can Read",
        tags=["operations"],
        thing="logging",
        fix="log one line per decision, with the why",
        habit="log everything at debug and read nothing",
        pain="a wall of stack traces at midnight",
        win="a log that tells a story",
        heads=["Logs are for people", "One line, one event"],
        link=("our logging rules", "https://example.com/logs"),
        code=("python", 'log.info("refund approved", extra={"order": order.id, "reason": reason})'),
        quote="A log line is a note to a tired stranger.",
        bullets=["What happened.", "To what.", "Why."],
        lines=[
            "If nobody reads it, stop writing it.",
            "Structure beats prose in logs — but only just.",
            "Errors without context are riddles.",
            "Grep is a design constraint. Respect it.",
        ],
    ),
    dict(
        slug="friday-deploys",
        title="Shipping on Fridays",
        tags=["operations"],
        thing="deploying on Fridays",
        fix="make every deploy small enough to undo in a minute",
        habit="freeze deploys out of fear",
        pain="a weekend spent on a rollback",
        win="a deploy so boring nobody notices",
        heads=["Fear is a signal", "Make it boring"],
        link=("the deploy checklist", "https://example.com/deploy"),
        code=("bash", "make deploy && make smoke-test || make rollback"),
        quote="If Friday is scary, so is Tuesday.",
        bullets=["Small.", "Observed.", "Reversible."],
        lines=[
            "The problem is not Friday. The problem is the size of the change.",
            "Rollbacks should be a button, not a project.",
            "Practice the undo.",
            "Boring deploys are a feature.",
        ],
        draft=True,
    ),
]


def fill(template: str, topic: dict) -> str:
    keys = {key: topic[key] for key in ("thing", "fix", "habit", "pain", "win")}
    keys.update({key.capitalize(): value[0].upper() + value[1:] for key, value in keys.items()})
    return template.format(**keys)


def body_paragraphs(rng: random.Random, topic: dict, count: int) -> list[str]:
    """`count` paragraphs of three to six sentences; each article draws its own mix without repeats."""
    pool = [fill(t, topic) for t in rng.sample(GENERIC, len(GENERIC))]
    lines = topic["lines"][:]
    paragraphs = []
    for index in range(count):
        sentences = [lines.pop()] if lines and index % 2 == 0 else []
        sentences += [pool.pop() for _ in range(rng.randint(2, 5)) if pool]
        rng.shuffle(sentences)
        paragraphs.append(" ".join(sentences))
    return paragraphs


def article(rng: random.Random, topic: dict, date: str) -> str:
    text, link = topic["link"]
    lang, code = topic["code"]
    body = body_paragraphs(rng, topic, 14)
    aside, comment = rng.choice(ASIDES), rng.choice(COMMENTS)
    tags = ", ".join(f'"{tag}"' for tag in topic["tags"])
    parts = [
        f'---\ntitle: "{topic["title"]}"\ndate: {date}\ntags: [{tags}]\n---',
        f"# {topic['title']}",
        fill(rng.choice(OPENERS), topic) + " " + body[0],
        body[1],
        body[2],
        f"## {topic['heads'][0]}",
        body[3] + f" I keep [{text}]({link}) pinned — it's short on purpose.",
        "\n".join(f"- {bullet}" for bullet in topic["bullets"]),
        body[4],
        body[5],
        f"![A whiteboard sketch of {topic['thing']}](img/{topic['slug']}.png)",
        f"Here's the command I reach for — `{code.splitlines()[0][:40]}` — and the rest of it:",
        f"```{lang}\n{code}\n```",
        body[6],
        body[7],
        f'<div class="aside">\n{aside} <em>{fill("The goal is {win}.", topic)}</em><br>\nMore on that <a href="{link}">here</a>.\n</div>',
        f"<!-- {comment} -->",
        f"> {topic['quote']}",
        f"## {topic['heads'][1]}",
        *body[8:],
        fill(rng.choice(CLOSERS), topic),
        SIGN_OFF,
    ]
    return "\n\n".join(parts) + "\n"


def main() -> None:
    rng = random.Random(4)
    root = Path(__file__).resolve().parent / "data" / "articles"
    shutil.rmtree(root, ignore_errors=True)
    for index, topic in enumerate(TOPICS):
        date = f"2025-{index % 12 + 1:02d}-{7 + index:02d}"
        folder = root / topic["slug"]
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(article(rng, topic, date), encoding="utf-8")
        meta = {
            "title": topic["title"],
            "slug": topic["slug"],
            "date": date,
            "author": "Tess Harrow",
            "tags": topic["tags"],
            "lang": "en",
            "draft": topic.get("draft", False),
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(TOPICS)} articles to {root}")


if __name__ == "__main__":
    main()
