"""The grammar of prices: the precompiled, bounded patterns that ``money`` reads amounts with.

Kept apart from the parsing so the national styles (separators, symbols, words, ranges, periods)
can be read, and extended, in one place.
"""

from __future__ import annotations

import re
from typing import Literal

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
    r"|crores?|mil)(?![^\W\d_])|[kKmMbB](?![^\W_])|万(?=[円元])|만(?=원))"
)
MULTIPLIERS = {
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
    "万": 1e4,  # ten thousand, in Japanese and Chinese prices ("250万円")
    "만": 1e4,  # and in Korean ("300만원")
}

_CODES = (
    "USD|EUR|MXN|COP|CAD|AUD|SGD|NZD|HKD|ARS|CLP|BRL|GBP|THB|INR|CHF|KRW|JPY|AED|UAH|CRC|PAB"
    "|PEN|CNY|RMB|MYR|DOP|ILS|PLN|RUB|ZAR"
)
_SYMBOLS = "€£฿₹₩¥₺₴₡₽₪₦₫₱"
DOLLAR_PREFIXES = {
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
TOKENS = {
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
    "円": "JPY",
    "元": "CNY",
    "원": "KRW",
    "บาท": "THB",
}
# Currency words, checked in order against the lower-cased word(s) written after an amount.
WORDS = (
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
# The most characters a price has before its first digit: a prefix ("U$S", "USD $") and a space.
# Prices are looked for only that close before digits (tests check it against the grammar).
DIGIT_WITHIN = 6
_SUFFIX = (
    r"(?:(?<![A-Za-z])(?:" + _CODES + r"|TRY|TL)(?![A-Za-z])"
    # a symbol followed by digits starts the next price ("฿ 545,000 $15,500")
    r"|(?:US\$|\$|[" + _SYMBOLS + r"])(?!" + _SP + r"?\d)"
    # written after the amount in Japanese, Chinese, Korean and Thai ("948,000円", "5000元",
    # "300만원", "120,000 บาท")
    r"|円|元(?!素)|원|บาท"
    r"|(?i:(?:(?:US|U\.S\.|American|Canadian|Australian|Singapore)[- \u00a0])?dollars?"
    r"|d[óo]lares|pesos(?:" + _SP + r"(?:mexicanos|colombianos|argentinos|chilenos))?"
    r"|euros?|baht|rupees|balboas|colones|won|yen|dirhams?|hryvnias?|lira|reais|soles|yuan)"
    r"(?![^\W\d_]))"
)

SINGLE = re.compile(
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
AND_WORDS = frozenset({"and", "und", "y", "et", "e"})
# The second amount of a range; a following "-digit" means a phone number, not a price.
RANGE_TAIL = re.compile(
    _CONN + r"(?:(?P<pre>" + _PREFIX + r")" + _SP + r"?)?(?P<num>" + _NUM + r")"
    r"(?P<mult>" + _MULT + r")?(?![-–]\d)(?:" + _SP + r"?(?P<suf>" + _SUFFIX + r"))?"
)
# The first amount of a range whose currency is only written after the second ("8.900 - 14.500 €").
LEFT_RANGE = re.compile(r"(?P<num>" + _NUM + r")(?P<mult>" + _MULT + r")?" + _CONN + r"\Z")

BETWEEN = re.compile(r"(?i:\b(?:between|entre|zwischen)\s+)\Z")
STARTING = re.compile(
    r"(?i:\b(?:(?:starting|starts?|begin(?:s|ning)?)\s+at|from"
    r"|as\s+(?:low|little)\s+as|desde|a\s+partir\s+de|à\s+partir\s+de|dès|ab)"
    r"(?:\s+(?:only|just|nur|solo|sólo))?\s*)\Z"
)
UP_TO = re.compile(
    r"(?i:\b(?:up\s+to|hasta|bis\s+zu|jusqu'à|under|less\s+than|no\s+more\s+than|at\s+most"
    r"|max(?:imum|\.)?)(?:\s+(?:of|de))?\s*)\Z"
)
MONTHLY_BEFORE = re.compile(r"(?i:\bmonthly\s+(?:payments?|installments?|instalments?)\s+of\s*)\Z")
PERIOD = re.compile(
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
UNITS: dict[str, Period] = {
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
CODE = re.compile(_CODES)
YEAR = re.compile(r"(?:19|20)\d\d")
CUE_WINDOW = 40  # characters searched before an amount for "from", "up to", "between" ...
