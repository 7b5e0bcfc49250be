"""Go's text/template, in the subset that Ollama chat TEMPLATEs use, rendered in Python.

Ollama renders a Modelfile's TEMPLATE with Go's text/template. Go cannot run here at export time,
so the TEMPLATE as written is rendered by this small interpreter instead, which knows:

    {{ .System }}  {{ $.System }}  {{ .Role }}     fields of the data, or of the root from inside a range
    {{ "text" }}  {{ `raw` }}                      string literals
    {{ if P }} {{ else if P }} {{ else }} {{ end }}
    {{ range .Messages }} ... {{ else }} ... {{ end }}
    eq A B [C ...]   ne A B                        comparisons of strings
    {{- ... -}}                                    trimming the whitespace beside an action

Anything else (pipes, parentheses, variables, other functions, comments, `with`, `define`, a field
the data does not hold) raises TemplateError, naming the construct and its line: a template outside
the subset is refused, never rendered by a guess. tests/unit/test_ollama.py renders the same
templates with Go's own text/template and compares.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SPACE = " \t\r\n"  # what Go's trim markers remove (text/template/parse: spaceChars)
FIELD = re.compile(r"\$?(?:\.[A-Za-z_]\w*)+|\$\w*|\.")
NAME = re.compile(r"[A-Za-z_]\w*")
KEYWORDS = ("if", "else", "end", "range")
FUNCTIONS = ("eq", "ne")
SUBSET = "{{ .Field }}, string literals, if / else if / else / end, range / else / end, eq, ne, {{- -}}"


class TemplateError(ValueError):
    """A TEMPLATE that does not parse, or that uses what the subset rendered here does not hold."""


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]  # ("Messages",) for .Messages; () for the dot itself
    root: bool  # $.X: from the data the template was given, whatever the dot is


@dataclass(frozen=True)
class Call:
    function: str | None  # None: the single argument's value itself
    args: tuple[Field | str, ...]  # a str is a string literal
    line: int


@dataclass(frozen=True)
class Action:
    words: tuple[Field | str | tuple[str], ...]  # a 1-tuple is a bare name: a keyword or a function
    line: int

    @property
    def keyword(self) -> str | None:
        first = self.words[0] if self.words else None
        return first[0] if isinstance(first, tuple) and first[0] in KEYWORDS else None


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Print:
    call: Call


@dataclass(frozen=True)
class If:
    branches: tuple[tuple[Call, tuple], ...]  # (condition, body) for if and every else if
    otherwise: tuple


@dataclass(frozen=True)
class Range:
    items: Call
    body: tuple
    otherwise: tuple


def is_space(char: str) -> bool:
    return char != "" and char in SPACE


def line_at(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def lex(source: str) -> list[str | Action]:
    """Text and actions in order, with the trim markers already applied to the text beside them."""
    items: list[str | Action] = []
    position, trim_next = 0, False
    while True:
        start = source.find("{{", position)
        text = source[position:] if start < 0 else source[position:start]
        text = text.lstrip(SPACE) if trim_next else text
        if start < 0:
            return [*items, text]
        trim_before = source.startswith("-", start + 2) and is_space(source[start + 3 : start + 4])
        items.append(text.rstrip(SPACE) if trim_before else text)
        words, position, trim_next = lex_action(source, start + (3 if trim_before else 2))
        items.append(Action(tuple(words), line_at(source, start)))


def lex_action(source: str, position: int) -> tuple[list, int, bool]:
    """The words of one action, where the text after it starts, and whether it trims that text."""
    words: list = []
    while position < len(source):
        if is_space(source[position]) and source.startswith("-}}", position + 1):
            return words, position + 4, True
        if source.startswith("}}", position):
            return words, position + 2, False
        if is_space(source[position]):
            position += 1
            continue
        word, position = lex_word(source, position)
        if position < len(source) and not (is_space(source[position]) or source.startswith("}}", position)):
            raise TemplateError(f"line {line_at(source, position)}: unexpected {source[position]!r} in an action")
        words.append(word)
    raise TemplateError(f"line {line_at(source, position)}: an action opened with {{{{ is never closed")


def lex_word(source: str, position: int) -> tuple[Field | str | tuple[str], int]:
    char, line = source[position], line_at(source, position)
    if char == '"':
        end = re.compile(r'"(?:[^"\\\n]|\\.)*"').match(source, position)
        if not end:
            raise TemplateError(f"line {line}: unterminated string literal")
        try:  # the escapes Go and JSON share (\n \t \" \\ \uXXXX); JSON's \/ is not Go's
            if "\\/" in end.group():
                raise ValueError
            return json.loads(end.group(), strict=False), end.end()
        except ValueError as error:
            raise TemplateError(f"line {line}: a string escape outside the subset in {end.group()}") from error
    if char == "`":
        end = source.find("`", position + 1)
        if end < 0:
            raise TemplateError(f"line {line}: unterminated raw string")
        return source[position + 1 : end], end + 1
    if field := FIELD.match(source, position):
        return parse_field(field.group(), line), field.end()
    if name := NAME.match(source, position):
        return (name.group(),), name.end()
    raise TemplateError(f"line {line}: {char!r} is outside the subset rendered here ({SUBSET})")


def parse_field(text: str, line: int) -> Field:
    if text.startswith("$") and text != "$" and not text.startswith("$."):
        raise TemplateError(f"line {line}: variables ({text}) are outside the subset rendered here")
    root = text.startswith("$")
    return Field(tuple(part for part in text.lstrip("$").split(".") if part), root)


def parse_call(words: tuple, line: int) -> Call:
    """A pipeline of the subset: one value, or eq / ne applied to values."""
    if not words:
        raise TemplateError(f"line {line}: missing value in an action")
    first, args = words[0], words[1:]
    if isinstance(first, tuple):
        name = first[0]
        if name not in FUNCTIONS:
            raise TemplateError(f"line {line}: {name!r} is outside the subset rendered here ({SUBSET})")
        if any(isinstance(arg, tuple) for arg in args):
            raise TemplateError(f"line {line}: {name} takes fields and string literals only")
        if (name == "eq" and len(args) < 2) or (name == "ne" and len(args) != 2):
            raise TemplateError(f"line {line}: wrong number of arguments to {name}")
        return Call(name, args, line)
    if args:
        raise TemplateError(f"line {line}: a value cannot take arguments (only eq and ne can)")
    return Call(None, (first,), line)


class Parser:
    """Builds the tree of Text, Print, If and Range nodes from the lexed items."""

    def __init__(self, items: list[str | Action]):
        self.items, self.index = items, 0

    def parse(self) -> tuple:
        nodes, closer = self.body()
        if closer is not None:
            raise TemplateError(f"line {closer.line}: {{{{ {closer.keyword} }}}} without an if or range")
        return nodes

    def body(self) -> tuple[tuple, Action | None]:
        """Nodes up to an {{ else }} or {{ end }} (returned), or to the end of the template (None)."""
        nodes: list = []
        while self.index < len(self.items):
            item = self.items[self.index]
            self.index += 1
            if isinstance(item, str):
                nodes += [Text(item)] if item else []
            elif item.keyword in ("else", "end"):
                return tuple(nodes), item
            elif item.keyword == "if":
                nodes.append(self.conditional(item))
            elif item.keyword == "range":
                nodes.append(self.loop(item))
            else:
                nodes.append(Print(parse_call(item.words, item.line)))
        return tuple(nodes), None

    def closed(self, opener: Action, closer: Action | None) -> Action:
        if closer is None:
            raise TemplateError(f"line {opener.line}: {{{{ {opener.keyword} }}}} has no {{{{ end }}}}")
        if closer.keyword == "end" and len(closer.words) > 1:
            raise TemplateError(f"line {closer.line}: {{{{ end }}}} takes nothing")
        return closer

    def conditional(self, opener: Action) -> If:
        branches, condition = [], parse_call(opener.words[1:], opener.line)
        while True:
            body, closer = self.body()
            closer = self.closed(opener, closer)
            branches.append((condition, body))
            if closer.keyword == "end":
                return If(tuple(branches), ())
            if closer.words[1:2] == (("if",),):
                condition = parse_call(closer.words[2:], closer.line)
                continue
            if len(closer.words) > 1:
                raise TemplateError(f"line {closer.line}: only {{{{ else }}}} and {{{{ else if }}}} are rendered here")
            otherwise, end = self.body()
            if self.closed(opener, end).keyword != "end":
                raise TemplateError(f"line {end.line}: a second {{{{ else }}}} after {{{{ else }}}}")
            return If(tuple(branches), otherwise)

    def loop(self, opener: Action) -> Range:
        items = parse_call(opener.words[1:], opener.line)
        if items.function is not None or not isinstance(items.args[0], Field):
            raise TemplateError(f"line {opener.line}: range over a field only (range .Messages)")
        body, closer = self.body()
        otherwise: tuple = ()
        if self.closed(opener, closer).keyword == "else":
            if len(closer.words) > 1:
                raise TemplateError(f"line {closer.line}: only a plain {{{{ else }}}} may follow a range")
            otherwise, closer = self.body()
            if self.closed(opener, closer).keyword != "end":
                raise TemplateError(f"line {closer.line}: a second {{{{ else }}}} in a range")
        return Range(items, body, otherwise)


def parse_template(source: str) -> tuple:
    """The template's tree; raises TemplateError for what Go would refuse or the subset does not hold."""
    return Parser(lex(source)).parse()


def field_names(nodes: tuple) -> set[str]:
    """Every field name the template reads, as Ollama's Vars lists them to pick how to render."""
    names: set[str] = set()
    for node in nodes:
        calls = [node.call] if isinstance(node, Print) else []
        if isinstance(node, If):
            calls += [condition for condition, _ in node.branches]
            names |= set().union(*(field_names(body) for _, body in node.branches), field_names(node.otherwise))
        if isinstance(node, Range):
            calls.append(node.items)
            names |= field_names(node.body) | field_names(node.otherwise)
        names |= {part for call in calls for arg in call.args if isinstance(arg, Field) for part in arg.path}
    return names


def render(source: str, data: dict) -> str:
    """The template rendered on `data` (a dict of fields; lists of dicts for what range walks)."""
    out: list[str] = []
    Renderer(data, out).nodes(parse_template(source), data)
    return "".join(out)


class Renderer:
    def __init__(self, root: dict, out: list[str]):
        self.root, self.out = root, out

    def nodes(self, nodes: tuple, dot) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.out.append(node.text)
            elif isinstance(node, Print):
                self.out.append(printed(self.call(node.call, dot), node.call.line))
            elif isinstance(node, If):
                chosen = next((body for condition, body in node.branches if truth(self.call(condition, dot))), None)
                self.nodes(node.otherwise if chosen is None else chosen, dot)
            else:
                self.loop(node, dot)

    def loop(self, node: Range, dot) -> None:
        items = self.call(node.items, dot)
        if not isinstance(items, list):
            raise TemplateError(f"line {node.items.line}: range over {type(items).__name__}, not a list")
        for item in items:
            self.nodes(node.body, item)
        if not items:
            self.nodes(node.otherwise, dot)

    def call(self, call: Call, dot):
        values = [arg if isinstance(arg, str) else self.field(arg, dot, call.line) for arg in call.args]
        if call.function is None:
            return values[0]
        if not all(isinstance(value, str) for value in values):
            raise TemplateError(f"line {call.line}: {call.function} compares strings only here")
        equal = any(values[0] == other for other in values[1:])
        return equal if call.function == "eq" else not equal

    def field(self, field: Field, dot, line: int):
        value = self.root if field.root else dot
        for name in field.path:
            if not isinstance(value, dict) or name not in value:
                held = ", ".join(f".{key}" for key in value) if isinstance(value, dict) else type(value).__name__
                raise TemplateError(f"line {line}: no field .{name} here (it holds {held})")
            value = value[name]
        return value


def truth(value) -> bool:
    """Go's truth: false, "", an empty list and nil are false."""
    return bool(value)


def printed(value, line: int) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"line {line}: printing a {type(value).__name__} is outside the subset rendered here")
    return value
