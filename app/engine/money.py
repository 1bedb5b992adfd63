"""Prices in page text: currency, amount, ranges and qualifiers such as "starting at" or "/month".

Clinic sites write prices in many national styles (``$4,500``, ``€ 18.500``, ``₹6,50,000``,
``$168,000 MXN``, ``$5-10k``), so a number only counts as money when a currency symbol, code or
word is written next to it; that alone rules out years, phone numbers, percentages and cell
counts. Every pattern is precompiled and every repetition bounded, because this runs on each page
and must stay linear even on long runs of digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.engine.scan import finditer_digit_lines
from app.engine.types import Money

Period = Literal["month", "year", "week", "day", "night", "session"]
Qualifier = Literal["exact", "range", "starting_at", "per_month", "up_to"]

# One ordinary, no-break, narrow no-break or thin space; never a newline, because page text puts
# blank lines between blocks and a price never runs across two table cells.
_SP = "[ \u00a0\u202f\u2009]"

# A number: Indian lakh grouping, three-digit groups split by one kind of separator (, . ' ’ or
# a space, so "$16,900 300 million" stays two numbers), or plain digits, then at most two
# decimals. The lookbehind keeps the engine from restarting inside a digit run, and the atomic
# group from re-trying every shorter reading of "123 456 789 ..." when no currency follows.
_NUM = (
    r"(?<![\d.,'’])(?>"
    r"(?:\d{1,2}(?:,\d{2}){1,3},\d{3}"
    r"|\d{1,3}(?:,\d{3}){1,4}|\d{1,3}(?:\.\d{3}){1,4}|\d{1,3}(?:['’]\d{3}){1,4}"
    r"|\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3}){1,4}"
    r"|\d{1,9})"
    r"(?:[.,]\d{1,2})?"
    r"(?!\d|[.,'’]\d|[ \u00a0]?%))"
)
_MULT = (
    r"(?:" + _SP + r"?(?i:million|millones|millón|millon|mio\.?|mn|bn|billion|thousand|lakhs?"
    r"|crores?|mil)(?![^\W\d_])|[kKmMbB](?![^\W_]))"
)
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "mil": 1e3,
    "lakh": 1e5,
    "lakhs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
    "m": 1e6,
    "million": 1e6,
    "millones": 1e6,
    "millón": 1e6,
    "millon": 1e6,
    "mio": 1e6,
    "mio.": 1e6,
    "mn": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}

_CODES = (
    "USD|EUR|MXN|COP|CAD|AUD|SGD|NZD|HKD|ARS|CLP|BRL|GBP|THB|INR|CHF|KRW|JPY|AED|UAH|CRC|PAB"
    "|PEN|CNY|RMB|MYR|DOP|ILS|PLN|RUB|ZAR"
)
_SYMBOLS = "€£฿₹₩¥₺₴₡₽₪₦₫₱"
_DOLLAR_PREFIXES = {
    "US": "USD",
    "MX": "MXN",
    "COL": "COP",
    "R": "BRL",
    "C": "CAD",
    "CA": "CAD",
    "A": "AUD",
    "AU": "AUD",
    "S": "SGD",
    "NZ": "NZD",
    "HK": "HKD",
    "AR": "ARS",
    "NT": "TWD",
    "RD": "DOP",
}
_TOKENS = {
    "$": "USD",
    "U$S": "USD",
    "€": "EUR",
    "£": "GBP",
    "฿": "THB",
    "₹": "INR",
    "RS": "INR",
    "RS.": "INR",
    "₩": "KRW",
    "¥": "JPY",
    "₺": "TRY",
    "TL": "TRY",
    "TRY": "TRY",
    "₴": "UAH",
    "₡": "CRC",
    "B/.": "PAB",
    "S/.": "PEN",
    "₽": "RUB",
    "₪": "ILS",
    "₦": "NGN",
    "₫": "VND",
    "₱": "PHP",
    "RMB": "CNY",
}
# Currency words, checked in order against the lower-cased word(s) written after an amount.
_WORDS = (
    ("canadian", "CAD"),
    ("australian", "AUD"),
    ("singapore", "SGD"),
    ("colombian", "COP"),
    ("argentin", "ARS"),
    ("chilen", "CLP"),
    ("dollar", "USD"),
    ("dólar", "USD"),
    ("dolar", "USD"),
    ("peso", "MXN"),
    ("euro", "EUR"),
    ("baht", "THB"),
    ("rupee", "INR"),
    ("balboa", "PAB"),
    ("colones", "CRC"),
    ("won", "KRW"),
    ("yen", "JPY"),
    ("dirham", "AED"),
    ("hryvnia", "UAH"),
    ("lira", "TRY"),
    ("reais", "BRL"),
    ("soles", "PEN"),
    ("yuan", "CNY"),
)

# Dollar-sign prefixes are listed before the bare "$" so "MX$" or "$ USD" is read whole. TRY,
# "won" and "yen" are only accepted after an amount: before one they are usually English words.
_PREFIX = (
    r"U\$S"
    r"|(?<![A-Za-z])(?:US|MX|COL|CA|AU|NZ|HK|AR|NT|RD|[RCAS])\$"
    r"|(?<![A-Za-z])(?:" + _CODES + r")(?:" + _SP + r"?\$)?(?![A-Za-z])"
    r"|\$(?:" + _SP + r"?(?:USD|MXN|COP|CAD|AUD|US)(?![A-Za-z]))?"
    r"|[" + _SYMBOLS + r"]"
    r"|(?<![A-Za-z])(?:Rs\.?|[BS]/\.)"
)
_SUFFIX = (
    r"(?:(?<![A-Za-z])(?:" + _CODES + r"|TRY|TL)(?![A-Za-z])"
    # a symbol followed by digits starts the next price ("฿ 545,000 $15,500")
    r"|(?:US\$|\$|[" + _SYMBOLS + r"])(?!" + _SP + r"?\d)"
    r"|(?i:(?:(?:US|U\.S\.|American|Canadian|Australian|Singapore)[- \u00a0])?dollars?"
    r"|d[óo]lares|pesos(?:" + _SP + r"(?:mexicanos|colombianos|argentinos|chilenos))?"
    r"|euros?|baht|rupees|balboas|colones|won|yen|dirhams?|hryvnias?|lira|reais|soles|yuan)"
    r"(?![^\W\d_]))"
)

_SINGLE = re.compile(
    r"(?P<pre>" + _PREFIX + r")" + _SP + r"?(?P<num>" + _NUM + r")(?P<mult>" + _MULT + r")?"
    r"(?:" + _SP + r"?(?P<suf>" + _SUFFIX + r"))?"
    r"|(?P<bnum>" + _NUM + r")(?P<bmult>" + _MULT + r")?" + _SP + r"?(?P<bsuf>" + _SUFFIX + r")"
)
# Range connectors; the "and" family needs "between" before the first amount.
_CONN = (
    r"(?:"
    + _SP
    + r"?[-–—]"
    + _SP
    + r"?|"
    + _SP
    + r"(?P<word>(?i:to|and|und|bis|a|al|y|et|e|à|até|hasta))"
    + _SP
    + r")"
)
_AND_WORDS = frozenset({"and", "und", "y", "et", "e"})
# The second amount of a range; a following "-digit" means a phone number, not a price.
_RANGE_TAIL = re.compile(
    _CONN + r"(?:(?P<pre>" + _PREFIX + r")" + _SP + r"?)?(?P<num>" + _NUM + r")"
    r"(?P<mult>" + _MULT + r")?(?![-–]\d)(?:" + _SP + r"?(?P<suf>" + _SUFFIX + r"))?"
)
# The first amount of a range whose currency is only written after the second ("8.900 - 14.500 €").
_LEFT_RANGE = re.compile(r"(?P<num>" + _NUM + r")(?P<mult>" + _MULT + r")?" + _CONN + r"\Z")

_BETWEEN = re.compile(r"(?i:\b(?:between|entre|zwischen)\s+)\Z")
_STARTING = re.compile(
    r"(?i:\b(?:(?:starting|starts?|begin(?:s|ning)?)\s+at|from"
    r"|as\s+(?:low|little)\s+as|desde|a\s+partir\s+de|à\s+partir\s+de|dès|ab)"
    r"(?:\s+(?:only|just|nur|solo|sólo))?\s*)\Z"
)
_UP_TO = re.compile(
    r"(?i:\b(?:up\s+to|hasta|bis\s+zu|jusqu'à|under|less\s+than|no\s+more\s+than|at\s+most"
    r"|max(?:imum|\.)?)(?:\s+(?:of|de))?\s*)\Z"
)
_MONTHLY_BEFORE = re.compile(r"(?i:\bmonthly\s+(?:payments?|installments?|instalments?)\s+of\s*)\Z")
_PERIOD = re.compile(
    _SP
    + r"?(?:/|(?i:per|a|an|each|every|pro|por|al|par)"
    + _SP
    + r")"
    + _SP
    + r"?(?P<unit>(?i:month|mo|mth|mes|monat|mois|year|yr|annum|año|jahr|week|wk|semana|woche"
    r"|day|día|dia|tag|night|noche|nacht|session|sesión|sesion|sitzung))\b"
    r"|" + _SP + r"(?P<adv>(?i:monthly|mensual(?:es)?|monatlich|annually|yearly|jährlich|weekly"
    r"|nightly|daily))\b"
)
_UNITS: dict[str, Period] = {
    "month": "month",
    "mo": "month",
    "mth": "month",
    "mes": "month",
    "monat": "month",
    "mois": "month",
    "monthly": "month",
    "mensual": "month",
    "mensuales": "month",
    "monatlich": "month",
    "year": "year",
    "yr": "year",
    "annum": "year",
    "año": "year",
    "jahr": "year",
    "annually": "year",
    "yearly": "year",
    "jährlich": "year",
    "week": "week",
    "wk": "week",
    "semana": "week",
    "woche": "week",
    "weekly": "week",
    "day": "day",
    "día": "day",
    "dia": "day",
    "tag": "day",
    "daily": "day",
    "night": "night",
    "noche": "night",
    "nacht": "night",
    "nightly": "night",
    "session": "session",
    "sesión": "session",
    "sesion": "session",
    "sitzung": "session",
}
_CODE = re.compile(_CODES)
_YEAR = re.compile(r"(?:19|20)\d\d")
_CUE_WINDOW = 40  # characters searched before an amount for "from", "up to", "between" ...


@dataclass(frozen=True, slots=True)
class _Amount:
    start: int
    end: int
    value: float
    currency: str | None
    generic: bool  # the currency came from a bare "$" only, so a written code may override it
    scaled: bool  # a multiplier such as "k" or "million" was written


def _parse_number(raw: str, multiplier: str | None) -> float:
    """Read ``4,500`` / ``18.500,00`` / ``6,50,000`` / ``1.2`` as a float, times the multiplier."""
    seps = [i for i, ch in enumerate(raw) if not ch.isdigit()]
    if seps:
        last = seps[-1]
        decimals = len(raw) - last - 1
        # Two or fewer digits after the last separator make it a decimal point; so does a single
        # "1.250" before "million". Three digits otherwise mean a thousands separator.
        one_point = seps == [last] and raw[last] in ".,"
        is_decimal = decimals < 3 or (multiplier is not None and one_point)
        digits = "".join(ch for ch in raw[:last] if ch.isdigit())
        tail = raw[last + 1 :]
        raw = f"{digits}.{tail}" if is_decimal else digits + tail
    value = float(raw)
    if multiplier:
        key = "".join(multiplier.split()).lower()
        value *= _MULTIPLIERS[key]
    return value


def _currency(token: str | None) -> str | None:
    """Map a written symbol, code or word to an ISO 4217 code."""
    if not token:
        return None
    compact = "".join(token.split())
    upper = compact.upper()
    if upper in _TOKENS:
        return _TOKENS[upper]
    if "$" in upper:
        letters = upper.replace("$", "")
        return _DOLLAR_PREFIXES.get(letters, letters if len(letters) == 3 else "USD")
    if _CODE.fullmatch(compact):
        return compact.replace("RMB", "CNY")
    lower = token.lower()
    return next((code for word, code in _WORDS if word in lower), None)


def _amount(m: re.Match[str], start: int, end: int) -> _Amount | None:
    """Build an amount from a match of ``_SINGLE`` or ``_RANGE_TAIL`` (either group naming)."""
    groups = m.groupdict()
    num = groups.get("num") or groups["bnum"]
    mult = groups.get("mult") or groups.get("bmult")
    pre, suf = groups.get("pre"), groups.get("suf") or groups.get("bsuf")
    pre_cur, suf_cur = _currency(pre), _currency(suf)
    if pre is None and suf and any(ch.islower() for ch in suf) and _YEAR.fullmatch(num):
        return None  # "in 2019 won the award", "in 2019 dollars": a year, not an amount
    bare_dollar = pre is not None and pre.strip() == "$"
    currency = suf_cur if (suf_cur and (bare_dollar or pre_cur is None)) else pre_cur
    return _Amount(
        start=start,
        end=end,
        value=_parse_number(num, mult),
        currency=currency,
        generic=bare_dollar and suf_cur is None,
        scaled=mult is not None,
    )


def _cue(pattern: re.Pattern[str], text: str, at: int) -> bool:
    """Whether ``pattern`` (anchored with ``\\Z``) ends right before offset ``at``."""
    return pattern.search(text, max(0, at - _CUE_WINDOW), at) is not None


def _right_range(text: str, first: _Amount) -> tuple[_Amount, float] | None:
    """The range ``first`` opens ("$4,500 - $12,000", "$5-10k"), as (merged amount, high)."""
    tail = _RANGE_TAIL.match(text, first.end)
    if tail is None:
        return None
    word = (tail.group("word") or "").lower()
    if word in _AND_WORDS and not _cue(_BETWEEN, text, first.start):
        return None
    second = _amount(tail, tail.start(), tail.end())
    if second is None:
        return None
    low = first.value
    if second.scaled and not first.scaled:
        factor = _MULTIPLIERS["".join(tail.group("mult").split()).lower()]
        low = low * factor if low * factor < second.value else low  # "$5-10k" is 5,000-10,000
    currency = first.currency
    if second.currency and second.currency != first.currency:
        if not first.generic:
            return None  # "$6,900 USD - $118,000 MXN" are two prices, not a range
        currency = second.currency
    if low >= second.value:
        return None
    return _Amount(first.start, tail.end(), low, currency, False, first.scaled), second.value


def _left_range(text: str, last: _Amount, floor: int) -> tuple[_Amount, float] | None:
    """The range ``last`` closes when only the high end carries the currency."""
    head = _LEFT_RANGE.search(text, max(floor, last.start - _CUE_WINDOW), last.start)
    if head is None:
        return None
    word = (head.group("word") or "").lower()
    if word in _AND_WORDS and not _cue(_BETWEEN, text, head.start()):
        return None
    low = _parse_number(head.group("num"), head.group("mult"))
    if low >= last.value:
        return None
    return _Amount(head.start(), last.end, low, last.currency, False, last.scaled), last.value


def find_money_spans(text: str) -> list[tuple[int, int, Money]]:
    """Every price written in ``text`` as ``(start, end, Money)``, in order and non-overlapping."""
    found: list[tuple[int, int, Money]] = []
    floor = 0  # end of the last accepted price; later matches may not reuse its characters
    for m in finditer_digit_lines(_SINGLE, text):
        if m.start() < floor:
            continue
        single = _amount(m, m.start(), m.end())
        if single is None:
            continue
        high: float | None = None
        ranged = _right_range(text, single)
        if ranged is None and m.group("pre") is None:
            ranged = _left_range(text, single, floor)
        amount = single
        if ranged is not None:
            amount, high = ranged
        start, end = amount.start, amount.end
        period: Period | None = None
        if (after := _PERIOD.match(text, end)) is not None:
            period = _UNITS[(after.group("unit") or after.group("adv")).lower()]
            end = after.end()
        if period is None and _cue(_MONTHLY_BEFORE, text, start):
            period = "month"
        value = amount.value
        # A range beats a cue word ("from $3,000 to $5,000"); a starting price paid monthly stays
        # "starting_at" and keeps its period.
        qualifier: Qualifier
        if high is not None:
            qualifier, exact, low = "range", None, value
        elif _cue(_UP_TO, text, start):
            qualifier, exact, low, high = "up_to", value, None, value
        elif _cue(_STARTING, text, start):
            qualifier, exact, low = "starting_at", value, value
        else:
            qualifier = "per_month" if period == "month" else "exact"
            exact, low = value, None
        money = Money(
            text=text[start:end],
            currency=amount.currency,
            amount=exact,
            low=low,
            high=high,
            qualifier=qualifier,
            period=period,
        )
        found.append((start, end, money))
        floor = end
    return found
