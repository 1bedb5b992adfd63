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

from app.engine.money_grammar import (
    AND_WORDS,
    BETWEEN,
    CODE,
    CUE_WINDOW,
    DIGIT_WITHIN,
    DOLLAR_PREFIXES,
    LEFT_RANGE,
    MONTHLY_BEFORE,
    MULTIPLIERS,
    PERIOD,
    RANGE_TAIL,
    SINGLE,
    STARTING,
    TOKENS,
    UNITS,
    UP_TO,
    WORDS,
    YEAR,
    Period,
    Qualifier,
)
from app.engine.scan import finditer_near_digits
from app.engine.types import Money


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
        value *= MULTIPLIERS[key]
    return value


def _currency(token: str | None) -> str | None:
    """Map a written symbol, code or word to an ISO 4217 code."""
    if not token:
        return None
    compact = "".join(token.split())
    upper = compact.upper()
    if upper in TOKENS:
        return TOKENS[upper]
    if "$" in upper:
        letters = upper.replace("$", "")
        return DOLLAR_PREFIXES.get(letters, letters if len(letters) == 3 else "USD")
    if CODE.fullmatch(compact):
        return compact.replace("RMB", "CNY")
    lower = token.lower()
    return next((code for word, code in WORDS if word in lower), None)


def _amount(m: re.Match[str], start: int, end: int) -> _Amount | None:
    """Build an amount from a match of ``SINGLE`` or ``RANGE_TAIL`` (either group naming)."""
    groups = m.groupdict()
    num = groups.get("num") or groups["bnum"]
    mult = groups.get("mult") or groups.get("bmult")
    pre, suf = groups.get("pre"), groups.get("suf") or groups.get("bsuf")
    pre_cur, suf_cur = _currency(pre), _currency(suf)
    if pre is None and suf and any(ch.islower() for ch in suf) and YEAR.fullmatch(num):
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
    r"""Whether ``pattern`` (anchored with ``\Z``) ends right before offset ``at``."""
    return pattern.search(text, max(0, at - CUE_WINDOW), at) is not None


def _right_range(text: str, first: _Amount) -> tuple[_Amount, float] | None:
    """The range ``first`` opens ("$4,500 - $12,000", "$5-10k"), as (merged amount, high)."""
    tail = RANGE_TAIL.match(text, first.end)
    if tail is None:
        return None
    word = (tail.group("word") or "").lower()
    if word in AND_WORDS and not _cue(BETWEEN, text, first.start):
        return None
    second = _amount(tail, tail.start(), tail.end())
    if second is None:
        return None
    low = first.value
    if second.scaled and not first.scaled:
        factor = MULTIPLIERS["".join(tail.group("mult").split()).lower()]
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
    head = LEFT_RANGE.search(text, max(floor, last.start - CUE_WINDOW), last.start)
    if head is None:
        return None
    word = (head.group("word") or "").lower()
    if word in AND_WORDS and not _cue(BETWEEN, text, head.start()):
        return None
    low = _parse_number(head.group("num"), head.group("mult"))
    if low >= last.value:
        return None
    return _Amount(head.start(), last.end, low, last.currency, False, last.scaled), last.value


def find_money_spans(text: str) -> list[tuple[int, int, Money]]:
    """Every price written in ``text`` as ``(start, end, Money)``, in order and non-overlapping."""
    found: list[tuple[int, int, Money]] = []
    floor = 0  # end of the last accepted price; later matches may not reuse its characters
    for m in finditer_near_digits(SINGLE, text, DIGIT_WITHIN):
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
        if (after := PERIOD.match(text, end)) is not None:
            period = UNITS[(after.group("unit") or after.group("adv")).lower()]
            end = after.end()
        if period is None and _cue(MONTHLY_BEFORE, text, start):
            period = "month"
        value = amount.value
        # A range beats a cue word ("from $3,000 to $5,000"); a starting price paid monthly stays
        # "starting_at" and keeps its period.
        qualifier: Qualifier
        if high is not None:
            qualifier, exact, low = "range", None, value
        elif _cue(UP_TO, text, start):
            qualifier, exact, low, high = "up_to", value, None, value
        elif _cue(STARTING, text, start):
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
