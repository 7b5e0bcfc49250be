"""Generate the translation sample corpus: short everyday sentences in English, Traditional Chinese
and Japanese, aligned line by line (Moses layout).

Writes data/corpus.en, data/corpus.zh_tw and data/corpus.ja next to this script: line N of each
file says the same thing. Regenerate with:

    python recipes/translation/make_data.py

Every sentence is built from the templates and word lists below, all written for this project:
eight simple patterns (likes, drinks, goes somewhere on a weekday, lives in, has pets, colours,
weather, where is) whose words a 135M model can learn to map in a few dozen steps. English verbs
agree with the subject; Chinese uses the right measure word (隻, 本, 輛 ...), Japanese the right
counter (匹, 羽) and adjective form. Deterministic (random.Random(7)), standard library only.
"""

from __future__ import annotations

import random
from itertools import product
from pathlib import Path

# (English, third person singular?, Chinese, Japanese)
SUBJECTS = [
    ("I", False, "我", "私"),
    ("My mother", True, "我的媽媽", "私の母"),
    ("My father", True, "我的爸爸", "私の父"),
    ("My friend", True, "我的朋友", "私の友達"),
    ("The teacher", True, "老師", "先生"),
    ("The children", False, "孩子們", "子どもたち"),
]
FRUITS = [
    ("apples", "蘋果", "りんご"),
    ("bananas", "香蕉", "バナナ"),
    ("oranges", "柳橙", "オレンジ"),
    ("grapes", "葡萄", "ぶどう"),
    ("strawberries", "草莓", "いちご"),
    ("peaches", "桃子", "もも"),
    ("watermelon", "西瓜", "すいか"),
]
DRINKS = [
    ("coffee", "咖啡", "コーヒー"),
    ("tea", "茶", "お茶"),
    ("milk", "牛奶", "牛乳"),
    ("water", "水", "水"),
    ("orange juice", "柳橙汁", "オレンジジュース"),
]
PLACES = [
    ("the library", "圖書館", "図書館"),
    ("the park", "公園", "公園"),
    ("the station", "車站", "駅"),
    ("the hospital", "醫院", "病院"),
    ("the supermarket", "超市", "スーパー"),
    ("the museum", "博物館", "博物館"),
]
DAYS = [
    ("Monday", "星期一", "月曜日"),
    ("Tuesday", "星期二", "火曜日"),
    ("Wednesday", "星期三", "水曜日"),
    ("Thursday", "星期四", "木曜日"),
    ("Friday", "星期五", "金曜日"),
    ("Saturday", "星期六", "土曜日"),
    ("Sunday", "星期日", "日曜日"),
]
CITIES = [
    ("Taipei", "台北", "台北"),
    ("Tainan", "台南", "台南"),
    ("Tokyo", "東京", "東京"),
    ("Kyoto", "京都", "京都"),
    ("Osaka", "大阪", "大阪"),
    ("London", "倫敦", "ロンドン"),
    ("Paris", "巴黎", "パリ"),
    ("New York", "紐約", "ニューヨーク"),
]
NUMBERS = [("two", "兩", "二"), ("three", "三", "三"), ("four", "四", "四"), ("five", "五", "五")]
ANIMALS = [
    ("cats", "貓", "猫", "匹"),
    ("dogs", "狗", "犬", "匹"),
    ("birds", "鳥", "鳥", "羽"),
    ("rabbits", "兔子", "うさぎ", "匹"),
]  # (English, Chinese, Japanese, Japanese counter)
THINGS = [
    ("car", "輛", "車", "車"),
    ("hat", "頂", "帽子", "帽子"),
    ("book", "本", "書", "本"),
    ("bag", "個", "包包", "かばん"),
    ("umbrella", "把", "傘", "傘"),
    ("cup", "個", "杯子", "コップ"),
]
COLORS = [
    ("red", "紅色", "赤いです"),
    ("blue", "藍色", "青いです"),
    ("white", "白色", "白いです"),
    ("black", "黑色", "黒いです"),
    ("yellow", "黃色", "黄色いです"),
    ("green", "綠色", "緑色です"),
]
# (English, Chinese predicate, Japanese today, Japanese yesterday)
WEATHER = [
    ("sunny", "是晴天", "晴れです", "晴れでした"),
    ("rainy", "下雨", "雨です", "雨でした"),
    ("hot", "很熱", "暑いです", "暑かったです"),
    ("cold", "很冷", "寒いです", "寒かったです"),
    ("cloudy", "是陰天", "曇りです", "曇りでした"),
    ("windy", "風很大", "風が強いです", "風が強かったです"),
]


def verb(subject: tuple, base: str, third: str) -> str:
    return third if subject[1] else base


def likes() -> list[tuple[str, str, str]]:
    return [
        (f"{s[0]} {verb(s, 'like', 'likes')} {f[0]}.", f"{s[2]}喜歡{f[1]}。", f"{s[3]}は{f[2]}が好きです。")
        for s, f in product(SUBJECTS, FRUITS)
    ]


def drinks() -> list[tuple[str, str, str]]:
    return [
        (
            f"{s[0]} {verb(s, 'drink', 'drinks')} {d[0]} every morning.",
            f"{s[2]}每天早上喝{d[1]}。",
            f"{s[3]}は毎朝{d[2]}を飲みます。",
        )
        for s, d in product(SUBJECTS, DRINKS)
    ]


def goes() -> list[tuple[str, str, str]]:
    return [
        (
            f"{s[0]} {verb(s, 'go', 'goes')} to {p[0]} on {d[0]}.",
            f"{s[2]}{d[1]}去{p[1]}。",
            f"{s[3]}は{d[2]}に{p[2]}へ行きます。",
        )
        for s, p, d in product(SUBJECTS, PLACES, DAYS)
    ]


def lives() -> list[tuple[str, str, str]]:
    return [
        (f"{s[0]} {verb(s, 'live', 'lives')} in {c[0]}.", f"{s[2]}住在{c[1]}。", f"{s[3]}は{c[2]}に住んでいます。")
        for s, c in product(SUBJECTS, CITIES)
    ]


def pets() -> list[tuple[str, str, str]]:
    return [
        (
            f"{s[0]} {verb(s, 'have', 'has')} {n[0]} {a[0]}.",
            f"{s[2]}有{n[1]}隻{a[1]}。",
            f"{s[3]}は{a[2]}を{n[2]}{a[3]}飼っています。",
        )
        for s, n, a in product(SUBJECTS, NUMBERS, ANIMALS)
    ]


def colors() -> list[tuple[str, str, str]]:
    return [
        (f"This {t[0]} is {c[0]}.", f"這{t[1]}{t[2]}是{c[1]}的。", f"この{t[3]}は{c[2]}。")
        for t, c in product(THINGS, COLORS)
    ]


def weather() -> list[tuple[str, str, str]]:
    return [
        row
        for w in WEATHER
        for row in (
            (f"It is {w[0]} today.", f"今天{w[1]}。", f"今日は{w[2]}。"),
            (f"It was {w[0]} yesterday.", f"昨天{w[1]}。", f"昨日は{w[3]}。"),
        )
    ]


def places() -> list[tuple[str, str, str]]:
    return [
        row
        for p in PLACES
        for row in (
            (f"Where is {p[0]}?", f"{p[1]}在哪裡？", f"{p[2]}はどこですか？"),
            (f"Is {p[0]} far from here?", f"{p[1]}離這裡遠嗎？", f"{p[2]}はここから遠いですか？"),
        )
    ]


# template → how many of its sentences to keep (None: all); 320 lines in all
TEMPLATES = {likes: None, drinks: None, goes: 80, lives: None, pets: 60, colors: None, weather: None, places: None}


def build(rng: random.Random) -> list[tuple[str, str, str]]:
    rows = []
    for template, keep in TEMPLATES.items():
        sentences = template()
        rows += sentences if keep is None else rng.sample(sentences, keep)
    rng.shuffle(rows)
    return rows


def main() -> None:
    rows = build(random.Random(7))
    assert len({row[0] for row in rows}) == len(rows), "every English sentence must be distinct"
    folder = Path(__file__).resolve().parent / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for index, extension in enumerate(("en", "zh_tw", "ja")):
        (folder / f"corpus.{extension}").write_text("".join(row[index] + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} aligned lines -> {folder}/corpus.{{en,zh_tw,ja}}")


if __name__ == "__main__":
    main()
