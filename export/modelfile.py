"""An Ollama Modelfile read back as Ollama reads it (ollama/parser/parser.go, ParseFile).

Ollama's parser is a small state machine: a command name, then a value that runs to the end of the
line, unless it opens a quote ("..." or \"\"\"...\"\"\"), in which case it runs to the closing quote,
newlines included. Quotes are removed but nothing inside them is unescaped; characters Go does not
print (other than spaces, tabs and newlines inside a value) are dropped; `#` starts a comment only
where a command could start. The state machine is followed step by step here, so that a value
reads back exactly as `ollama create` would read it: the check of the written file
(export/ollama_check.py) must see what Ollama sees, not what the writer meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from pathlib import Path

COMMANDS = ("from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter")
COMMANDS += ("message", "requires")
MESSAGE_ROLES = ("system", "user", "assistant")


class ModelfileError(ValueError):
    """A Modelfile that `ollama create` would refuse to parse."""


class State(Enum):
    NIL = auto()  # between commands
    NAME = auto()  # the command's name
    VALUE = auto()  # its value
    PARAMETER = auto()  # a PARAMETER's name
    MESSAGE = auto()  # a MESSAGE's role
    COMMENT = auto()


@dataclass(frozen=True)
class Modelfile:
    """The commands in file order: (name, value), FROM as "model", a PARAMETER under its own name and a
    MESSAGE as "role: content" (Ollama's Command)."""

    commands: tuple[tuple[str, str], ...]

    def last(self, name: str) -> str | None:
        """A command's value as Ollama keeps it: a later TEMPLATE, SYSTEM or ADAPTER replaces an earlier one."""
        values = self.values(name)
        return values[-1] if values else None

    def values(self, name: str) -> list[str]:
        return [value for command, value in self.commands if command == name]

    @property
    def template(self) -> str | None:
        return self.last("template")

    @property
    def system(self) -> str | None:
        return self.last("system")

    @property
    def stops(self) -> list[str]:
        """Every PARAMETER stop: Ollama keeps all of them."""
        return self.values("stop")

    @property
    def messages(self) -> list[dict]:
        """The MESSAGE turns, which Ollama puts before every conversation."""
        return [dict(zip(("role", "content"), value.split(": ", 1))) for value in self.values("message")]


def is_newline(char: str) -> bool:
    return char in ("\r", "\n")


def is_space(char: str) -> bool:
    return char in (" ", "\t")


def next_state(char: str, state: State) -> tuple[State, str]:
    """Ollama's parseRuneForState: the next state and the character to keep ("" for none)."""
    if state is State.NIL:
        if char == "#":
            return State.COMMENT, ""
        return (State.NIL, "") if is_space(char) or is_newline(char) else (State.NAME, char)
    if state is State.NAME:
        if char.isascii() and char.isalpha():
            return State.NAME, char
        if is_space(char):
            return State.VALUE, ""
        raise ModelfileError("a command must be one of " + ", ".join(COMMANDS).upper())
    if state is State.VALUE:
        return (State.NIL, char) if is_space(char) or is_newline(char) else (State.VALUE, char)
    if state is State.COMMENT:
        return (State.NIL, "") if is_newline(char) else (State.COMMENT, "")
    # A PARAMETER name: letters, digits and _; a MESSAGE role: letters.
    name_char = char.isalpha() or (state is State.PARAMETER and (char.isdigit() or char == "_"))
    if char.isascii() and name_char:
        return state, char
    if is_space(char):
        return State.VALUE, ""
    raise ModelfileError("a PARAMETER name or MESSAGE role ends unexpectedly")


def unquote(text: str) -> str | None:
    """The value without its quotes; None while a quote is still open (Ollama's unquote)."""
    if text.startswith('"""'):
        return text[3:-3] if len(text) >= 6 and text.endswith('"""') else None
    if text.startswith('"'):
        return text[1:-1] if len(text) >= 2 and text.endswith('"') else None
    return text


def printable(char: str) -> bool:
    """Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    return char.isprintable()


class Reader:
    """Ollama's ParseFile, one character at a time."""

    def __init__(self):
        self.commands: list[tuple[str, str]] = []
        self.state, self.buffer, self.name, self.role, self.line = State.NIL, [], "", "", 1

    def feed(self, char: str) -> None:
        self.line += is_newline(char)
        try:
            following, kept = next_state(char, self.state)
        except ModelfileError as error:
            raise ModelfileError(f"line {self.line}: {error}") from None
        if following is not self.state:
            if self.state is State.VALUE and not self.end_value(char):
                self.buffer.append(char)  # a space, or a newline inside an open quote: part of the value
                return
            following = self.leave(following)
            self.buffer.clear()
            self.state = following
        if kept and printable(kept):
            self.buffer.append(kept)

    def leave(self, following: State) -> State:
        """Takes what the buffer holds as the state ends; may redirect the next state."""
        text = "".join(self.buffer)
        if self.state is State.NAME:
            name = text.lower()
            if name not in COMMANDS:
                raise ModelfileError(f"line {self.line}: a command must be one of " + ", ".join(COMMANDS).upper())
            self.name = {"from": "model"}.get(name, name)
            return {"parameter": State.PARAMETER, "message": State.MESSAGE}.get(name, following)
        if self.state is State.PARAMETER:
            self.name = text
        elif self.state is State.MESSAGE:
            if text not in MESSAGE_ROLES:
                raise ModelfileError(f"line {self.line}: a MESSAGE role must be one of {', '.join(MESSAGE_ROLES)}")
            self.role = text
        return following

    def end_value(self, char: str) -> bool:
        """At a space or newline in a value: whether the value ends here (a newline with no quote open)."""
        value = unquote("".join(self.buffer).strip())
        if value is None or is_space(char):
            return False
        self.add(value)
        return True

    def add(self, value: str) -> None:
        if self.role:
            value, self.role = f"{self.role}: {value}", ""
        self.commands.append((self.name, value))

    def finish(self) -> Modelfile:
        if self.state is State.VALUE:
            value = unquote("".join(self.buffer).strip())
            if value is None:
                raise ModelfileError(f"line {self.line}: a quoted value is never closed")
            self.add(value)
        elif self.state not in (State.NIL, State.COMMENT):
            raise ModelfileError(f"line {self.line}: the file ends inside a command")
        if not any(name == "model" for name, _ in self.commands):
            raise ModelfileError("no FROM line")
        return Modelfile(tuple(self.commands))


def parse_modelfile(text: str) -> Modelfile:
    reader = Reader()
    for char in text.removeprefix("\ufeff"):
        reader.feed(char)
    return reader.finish()


def read_modelfile(path: Path) -> Modelfile:
    return parse_modelfile(path.read_text(encoding="utf-8"))
