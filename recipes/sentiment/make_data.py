"""Generate the sentiment dataset: short Chinese hotel and shopping reviews, labelled 0/1.

Writes data/reviews.jsonl next to this script, one {"text", "label"} object per line (the
ChnSentiCorp layout; 0 = negative, 1 = positive), balanced. Regenerate with:

    python recipes/sentiment/make_data.py

Every phrase below was written for this project. A review joins two to three clauses about
different aspects of one hotel stay or one purchase, with optional openers, intensity words and endings. A fifth of the
reviews contrast ("虽然…但是…"): the clause after 但是 decides the label, so a model has to
read past the first clause. Deterministic (random.Random(5)), standard library only.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ASPECTS = {  # aspect → (positive clauses, negative clauses)
    "房间": (
        ["房间干净整洁", "房间宽敞明亮", "床很舒服，睡得很好", "房间隔音效果不错"],
        ["房间又小又暗", "房间有一股霉味", "床单不干净", "隔音太差，一晚上没睡好"],
    ),
    "服务": (
        ["前台服务热情周到", "服务员态度很好", "办理入住很快", "工作人员耐心解答问题"],
        ["前台态度冷淡", "服务员爱理不理", "办理入住等了一个小时", "投诉了也没人处理"],
    ),
    "位置": (
        ["位置方便，离地铁很近", "交通便利，出门就是商场", "周边吃饭的地方很多"],
        ["位置偏僻，打车都难", "离市区太远", "周围很吵，晚上都是施工声"],
    ),
    "早餐": (
        ["早餐种类丰富", "早餐很好吃", "早餐供应到十点，很贴心"],
        ["早餐很难吃", "早餐品种少得可怜", "早餐的东西都是凉的"],
    ),
    "价格": (["性价比很高", "价格实惠", "这个价钱很值"], ["价格贵得离谱", "性价比太低", "花这么多钱真不值"]),
    "物流": (["快递第二天就到了", "包装很仔细", "物流速度很快"], ["快递慢得要命", "包装破损了", "等了一个星期才到货"]),
    "质量": (
        ["质量很好，做工精细", "用了一个月没有任何问题", "手感很好，质量过硬"],
        ["质量很差，用两天就坏了", "做工粗糙", "和图片完全不一样"],
    ),
    "电池": (["电池很耐用", "充电很快", "续航比想象的好"], ["电池一天要充三次", "充电特别慢", "续航太差了"]),
}
DOMAINS = [["房间", "服务", "位置", "早餐", "价格"], ["物流", "质量", "电池", "价格"]]  # hotel, shopping
OPENERS = ["", "", "这次", "总的来说，", "说实话，", "第一次来，", "朋友推荐的，"]
INTENSE = {1: ["非常", "特别", "真的", ""], 0: ["非常", "实在", "真的", ""]}
ENDINGS = {
    1: ["", "下次还会再来。", "推荐！", "很满意。", "五星好评！", "值得购买。"],
    0: ["", "再也不会来了。", "不推荐。", "很失望。", "差评！", "后悔买了。"],
}
PER_LABEL = 320
CONTRAST_SHARE = 0.2


def clause(rng: random.Random, aspect: str, label: int) -> str:
    text = rng.choice(ASPECTS[aspect][1 - label])
    intensity = rng.choice(INTENSE[label])
    return text if not intensity or "很" not in text else text.replace("很", intensity, 1)


def review(rng: random.Random, label: int) -> str:
    aspects = rng.sample(rng.choice(DOMAINS), rng.choice([2, 2, 3]))
    if rng.random() < CONTRAST_SHARE:
        body = f"虽然{clause(rng, aspects[0], 1 - label)}，但是{clause(rng, aspects[1], label)}。"
    else:
        body = "，".join(clause(rng, aspect, label) for aspect in aspects) + "。"
    return f"{rng.choice(OPENERS)}{body}{rng.choice(ENDINGS[label])}"


def build(rng: random.Random) -> list[dict]:
    rows, seen = [], set()
    for label in (1, 0):
        while sum(row["label"] == label for row in rows) < PER_LABEL:
            text = review(rng, label)
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "label": label})
    rng.shuffle(rows)
    return rows


def main() -> None:
    rows = build(random.Random(5))
    out = Path(__file__).resolve().parent / "data" / "reviews.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} reviews ({PER_LABEL} per label) -> {out}")


if __name__ == "__main__":
    main()
