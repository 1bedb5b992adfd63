"""Prices from a page's schema.org JSON-LD (``priceRange``, ``Offer.price``, low/high prices).

Structured data is not visible text, so it never produces findings; the report lists these
prices among its identifiers.
"""

from __future__ import annotations

import json
import re

_JSON_WRAPPER = re.compile(r"^\s*(?:<!--|/\*\s*<!\[CDATA\[\s*\*/)|(?:-->|/\*\s*\]\]>\s*\*/)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _amount(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value).strip() or None
    return None  # objects and lists are walked on their own


def json_ld_prices(raw: str) -> list[str]:
    """Readable price strings from one JSON-LD script; bad JSON yields nothing, never an error."""
    raw = _JSON_WRAPPER.sub("", raw)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        try:  # the commonest hand-written mistake
            data = json.loads(_TRAILING_COMMA.sub(r"\1", raw))
        except (ValueError, RecursionError):
            return []
    found: list[str] = []
    stack = [data]
    while stack:  # iterative: @graph, offers and lists nest arbitrarily
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        if price_range := _amount(item.get("priceRange")):
            found.append(price_range)
        price = _amount(item.get("price"))
        if price is None:
            low, high = _amount(item.get("lowPrice")), _amount(item.get("highPrice"))
            price = "-".join(p for p in (low, high) if p) or None
        if price is not None:
            currency = _amount(item.get("priceCurrency"))
            found.append(f"{currency} {price}" if currency else price)
        stack.extend(v for v in reversed(item.values()) if isinstance(v, (dict, list)))
    return found
