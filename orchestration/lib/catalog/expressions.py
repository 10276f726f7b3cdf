"""Billable-metric formulas, turned into SQL the metering models run.

* `expression` is Lago's per-event formula for the metric's `field_name`, in Lago's own syntax,
  so a catalog written for Lago loads as it is:

      round((event.properties.ended_at - event.properties.started_at) / 3600, 2)

  Supported: numbers, 'strings', event.properties.<name>, event.timestamp (Unix seconds),
  event.code, + - * / with the usual precedence, unary minus, parentheses, and the functions
  round(x[, digits]), ceil(x), floor(x), concat(a, b, ...). Anything else is refused when the
  catalog loads. Arithmetic is exact decimal arithmetic (division through the warehouse's
  `billing_divide`, 12 decimals, half away from zero).

* `custom_aggregator` (custom_agg metrics) is a SQL aggregate over the events of a period, with
  the columns `value` (the metric's field as a decimal, null when absent), `properties` (JSON),
  `event_at` (timestamptz) and `transaction_id`. Example: `sum(value) - count(*)`.
"""
from __future__ import annotations

import re

import duckdb


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[-+*/(),.])
""", re.VERBOSE)

_FUNCTIONS = {"round", "ceil", "floor", "concat"}
_NUM = "decimal(38, 12)"


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExpressionError(f"cannot read {text[pos:pos + 12]!r} at position {pos + 1}")
        pos = match.end()
        if match.lastgroup != "ws":
            out.append((match.lastgroup, match.group()))
    return out


class _Parser:
    """Recursive descent; each method returns (sql, kind) with kind 'num' or 'text'."""

    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise ExpressionError("the expression ends too early" +
                                  (f" (expected {expected!r})" if expected else ""))
        token = self.tokens[self.i]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r}")
        self.i += 1
        return token

    def parse(self) -> str:
        sql, _ = self.sum()
        if self.i != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.i][1]!r}")
        return sql

    @staticmethod
    def num(part: tuple[str, str]) -> str:
        sql, kind = part
        return sql if kind == "num" else f"try_cast({sql} as {_NUM})"

    def sum(self) -> tuple[str, str]:
        left = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.product()
            left = (f"({self.num(left)} {op} {self.num(right)})", "num")
        return left

    def product(self) -> tuple[str, str]:
        left = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            if op == "*":
                left = (f"cast({self.num(left)} * {self.num(right)} as {_NUM})", "num")
            else:
                left = (f"billing_divide({self.num(left)}, {self.num(right)})", "num")
        return left

    def unary(self) -> tuple[str, str]:
        if self.peek() == "-":
            self.take()
            return (f"(-{self.num(self.unary())})", "num")
        return self.primary()

    def primary(self) -> tuple[str, str]:
        kind, text = self.take()
        if kind == "number":
            return (f"cast('{text}' as {_NUM})", "num")
        if kind == "string":
            inner = text[1:-1].replace("\\'", "'").replace('\\"', '"').replace("'", "''")
            return (f"'{inner}'", "text")
        if text == "(":
            inner = self.sum()
            self.take(")")
            return inner
        if kind == "name" and text == "event":
            self.take(".")
            _, attr = self.take()
            if attr == "properties":
                self.take(".")
                prop_kind, prop = self.take()
                if prop_kind != "name":
                    raise ExpressionError(f"expected a property name after event.properties., "
                                          f"found {prop!r}")
                return (f"json_extract_string(properties, '$.\"{prop}\"')", "text")
            if attr == "timestamp":
                return ("cast(cast(epoch_us(event_at) as decimal(38, 6)) * "
                        "cast(0.000001 as decimal(7, 6)) as decimal(38, 12))", "num")
            if attr == "code":
                return ("code", "text")
            raise ExpressionError(f"unknown event attribute {attr!r} (expected properties, "
                                  f"timestamp or code)")
        if kind == "name" and text in _FUNCTIONS:
            self.take("(")
            args = [self.sum()]
            while self.peek() == ",":
                self.take()
                args.append(self.sum())
            self.take(")")
            return self.call(text, args)
        raise ExpressionError(f"unexpected {text!r}")

    def call(self, name: str, args: list[tuple[str, str]]) -> tuple[str, str]:
        if name == "concat":
            return ("concat(" + ", ".join(f"cast({a[0]} as varchar)" for a in args) + ")", "text")
        if name in ("ceil", "floor"):
            if len(args) != 1:
                raise ExpressionError(f"{name}() takes one argument")
            return (f"cast({name}({self.num(args[0])}) as {_NUM})", "num")
        if len(args) not in (1, 2):
            raise ExpressionError("round() takes one or two arguments")
        digits = "0"
        if len(args) == 2:
            digits = args[1][0]
            match = re.fullmatch(r"cast\('(\d+)' as decimal\(38, 12\)\)", digits)
            if not match:
                raise ExpressionError("round()'s second argument must be a whole number")
            digits = match.group(1)
        return (f"cast(round({self.num(args[0])}, {digits}) as {_NUM})", "num")


def translate_expression(text: str) -> str:
    """Lago expression -> SQL text of the field value (varchar, as a property would be)."""
    if not text or not text.strip():
        raise ExpressionError("the expression is empty")
    return f"cast({_Parser(text).parse()} as varchar)"


_FORBIDDEN = re.compile(r";|--|/\*|\b(select|from|copy|attach|install|load|pragma|create|drop|"
                        r"insert|update|delete|read_\w+|getenv|glob)\b", re.IGNORECASE)


def check_custom_aggregator(sql: str) -> str | None:
    """Why this custom_agg SQL cannot be used, or None when it can."""
    if _FORBIDDEN.search(sql):
        return ("must be a single SQL aggregate expression over the event columns (value, "
                "properties, event_at, transaction_id); statements, sub-queries, comments and "
                "file or environment functions are not allowed")
    con = duckdb.connect()
    try:
        con.execute("create macro billing_divide(n, d) as cast(n as double) / d")
        result = con.execute(
            f"select {sql} as units from (select cast(null as decimal(38, 12)) as value, "
            f"cast(null as json) as properties, cast(null as timestamptz) as event_at, "
            f"cast(null as varchar) as transaction_id where false) as events").fetchall()
        if len(result) != 1:
            return "must aggregate the events into one value (use sum, max, count, …)"
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        return f"is not a valid SQL aggregate over the events: {first}"
    finally:
        con.close()
    return None
