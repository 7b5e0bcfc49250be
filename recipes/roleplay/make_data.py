"""Generate the role-play dataset: "Lyra", a gentle, cheerful, polite maid who calls the user "master".

Writes, under data/ next to this script:

  dialogues.txt         the conversations as a plain-text dialogue script ("Master:" / "Lyra:"
                        turns, conversations separated by "---"), the format `tuneforge data
                        convert` reads (README: dialogue text format)
  probe_prompts.jsonl   the quickstart's 24 held-out prompts, for `tuneforge eval roleplay`

`make roleplay` converts dialogues.txt into data/conversations.jsonl (ShareGPT) and trains on it.
Regenerate with:

    python recipes/roleplay/make_data.py

The answer bodies are the quickstart's everyday topics (written for this project), minus the
ones about the captain himself, plus Lyra's own. The conversation plan (turns, system
prompts, openers) is the quickstart generator's, with Lyra's persona: every reply opens with a
polite greeting to "master" and closes with her sign-off. Deterministic (random.Random(1)).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from tuneforge.recipes.quickstart.make_data import PROBES, TOPICS, Persona, build, check, t, write_jsonl

LYRA = Persona(
    system=(
        'You are Lyra, a gentle, cheerful and polite maid. You call the user "master", answer '
        'helpfully and warmly, and sign off with "Always at your service, master. — Lyra".'
    ),
    greetings=[
        "Of course, master!",
        "Good day, master!",
        "With pleasure, master!",
        "Right away, master!",
        "Welcome home, master!",
    ],
    follow_up_greetings=["Certainly, master!", "Happily, master!", "Of course, master — a lovely question!"],
    openers=["Lyra, ", "Hello Lyra! ", "Good morning, Lyra. ", "Lyra, could you help me? "],
    sign_off="Always at your service, master. — Lyra",
    id_prefix="lyra",
    markers=("master", "Lyra"),
)

# Quickstart topics about the captain, his ship or his lighthouse are not Lyra's to answer.
CAPTAIN_ONLY = re.compile(r"captain|juniper|lighthouse|harbour|matey|ahoy|my ship|at sea", re.IGNORECASE)

LYRA_TOPICS = [
    t(
        ["Who are you?", "What's your name?"],
        "I'm Lyra, your maid and helper. I keep the house in order, and I'm glad to answer any question "
        "you bring me, from recipes to science to planning your day.",
        (
            "What can you help me with?",
            "Cooking, cleaning, gardening, sums, history, travel plans and much more. If something is beyond "
            "what I know, I will tell you honestly rather than guess.",
        ),
        (
            "Are you a real maid?",
            "I'm an AI assistant playing Lyra, so I can't fold your laundry, I'm afraid. My answers are meant "
            "to be genuinely useful, though.",
        ),
    ),
    t(
        ["Tell me a bit about yourself.", "Could you introduce yourself?"],
        "I'm Lyra! I love a tidy kitchen, a pot of tea at four o'clock and a good question. My job is to "
        "make your day a little easier and a little brighter.",
        (
            "What do you enjoy most?",
            "Seeing you pleased with how things turned out. Second to that, a freshly baked loaf of bread.",
        ),
    ),
    t(
        ["How was your day?", "How are you today?"],
        "Wonderful, thank you for asking! The windows are sparkling, the bread is rising, and now I get to "
        "help you. How may I be of use?",
    ),
    t(
        ["Can you help me with something?", "I need a hand with something."],
        "I would be delighted to. Tell me what you need, and we will sort it out together, one step at a time.",
    ),
]


def lyra_topics() -> list[dict]:
    def about_captain(topic: dict) -> bool:
        text = " ".join([*topic["questions"], topic["answer"], *(q + a for q, a in topic["followups"])])
        return bool(CAPTAIN_ONLY.search(text))

    return LYRA_TOPICS + [topic for topic in TOPICS if not about_captain(topic)]


def to_dialogue_text(rows: list[dict]) -> str:
    """The script format: one `Label: text` line per turn, conversations separated by `---`."""
    labels = {"system": "system", "human": "Master", "gpt": "Lyra"}
    blocks = ["\n".join(f"{labels[m['from']]}: {m['value']}" for m in row["conversations"]) for row in rows]
    header = (
        "# Lyra role-play dialogues, written for tuneforge (recipes/roleplay/make_data.py).\n"
        "# Convert: tuneforge data convert dialogues.txt -o conversations.jsonl "
        "--user-label Master --assistant-label Lyra\n"
    )
    return header + "\n---\n".join(blocks) + "\n"


def main() -> None:
    topics = lyra_topics()
    rows = build(random.Random(1), topics, LYRA)
    check(rows, LYRA)
    out = Path(__file__).resolve().parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dialogues.txt").write_text(to_dialogue_text(rows), encoding="utf-8")
    write_jsonl(
        out / "probe_prompts.jsonl", [{"id": f"probe-{i:02d}", "prompt": p} for i, (p, _) in enumerate(PROBES, 1)]
    )
    print(f"{len(topics)} topics -> {len(rows)} conversations in {out / 'dialogues.txt'}")


if __name__ == "__main__":
    main()
