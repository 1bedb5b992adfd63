"""Registry IDs, IND numbers and prices: written forms, near misses, the dev corpus and speed."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from re import _parser as sre_parse

import pytest
from bs4 import BeautifulSoup

from app.engine import money_grammar, scan
from app.engine.identifiers import (
    find_all,
    find_ind_numbers,
    find_money,
    find_registry_ids,
    registry_id_from_url,
)
from app.engine.types import Money, RegistryId

# --- Trial registry IDs ------------------------------------------------------------------------

CT_GOV = "https://clinicaltrials.gov/study/"
REGISTRY_IDS = [
    ("Registered as NCT01234567.", "ClinicalTrials.gov", "NCT01234567", CT_GOV + "NCT01234567"),
    ("Study NCT 01234567 is recruiting", "ClinicalTrials.gov", "NCT01234567", None),
    ("see nct01234567", "ClinicalTrials.gov", "NCT01234567", None),
    ("(NCT01234567)", "ClinicalTrials.gov", "NCT01234567", None),
    ("https://clinicaltrials.gov/study/NCT01234567", "ClinicalTrials.gov", "NCT01234567", None),
    ("ISRCTN12345678", "ISRCTN", "ISRCTN12345678", "https://www.isrctn.com/ISRCTN12345678"),
    ("isrctn 12345678", "ISRCTN", "ISRCTN12345678", None),
    ("EudraCT 2019-001234-56", "EudraCT", "2019-001234-56", None),
    ("2019-001234-56", "EudraCT", "2019-001234-56", None),
    ("EudraCT number: 1990-001234-56", "EudraCT", "1990-001234-56", None),
    (
        "EU CT 2022-500123-45-00",
        "EU CT",
        "2022-500123-45-00",
        "https://euclinicaltrials.eu/ctis-public/view/2022-500123-45-00",
    ),
    ("ChiCTR2000029606", "ChiCTR", "ChiCTR2000029606", None),
    ("ChiCTR-IOR-17013290", "ChiCTR", "ChiCTR-IOR-17013290", None),
    ("chictr-ior-17013290", "ChiCTR", "ChiCTR-IOR-17013290", None),
    (
        "ACTRN12620000123456",
        "ANZCTR",
        "ACTRN12620000123456",
        "https://www.anzctr.org.au/ACTRN12620000123456.aspx",
    ),
    ("ACTRN12620000123456p", "ANZCTR", "ACTRN12620000123456", None),
    ("CTRI/2020/05/025123", "CTRI", "CTRI/2020/05/025123", None),
    ("ctri/2009/091/000123", "CTRI", "CTRI/2009/091/000123", None),
    ("DRKS00012345", "DRKS", "DRKS00012345", "https://drks.de/search/en/trial/DRKS00012345"),
    ("jRCT2031200001", "jRCT", "jRCT2031200001", None),
    ("jRCTs031180001", "jRCT", "jRCTs031180001", None),
    ("JRCTB030190076", "jRCT", "jRCTb030190076", None),
    ("UMIN000012345", "UMIN-CTR", "UMIN000012345", None),
    ("KCT0001234", "CRIS", "KCT0001234", None),
    ("IRCT20200101046021N1", "IRCT", "IRCT20200101046021N1", None),
    ("IRCT201012224567N2", "IRCT", "IRCT201012224567N2", None),
    ("PACTR202001123456789", "PACTR", "PACTR202001123456789", None),
    ("RBR-6qvdftm", "ReBec", "RBR-6qvdftm", "https://ensaiosclinicos.gov.br/rg/RBR-6qvdftm"),
    ("RBR-8h4t9p", "ReBec", "RBR-8h4t9p", None),
    (
        "TCTR20200101001",
        "TCTR",
        "TCTR20200101001",
        "https://www.thaiclinicaltrials.org/show/TCTR20200101001",
    ),
]


@pytest.mark.parametrize(("text", "registry", "normal", "url"), REGISTRY_IDS)
def test_registry_id_forms(text: str, registry: str, normal: str, url: str | None) -> None:
    (hit,) = find_registry_ids(text)
    assert isinstance(hit.value, RegistryId)
    assert (hit.value.registry, hit.value.id) == (registry, normal)
    assert hit.text == text[hit.start : hit.end] == hit.value.text
    if url is not None:
        assert hit.value.url == url


@pytest.mark.parametrize(
    "text",
    [
        "NCT012345678",  # nine digits
        "NCT0123456",  # seven digits
        "ANCT01234567",  # glued to a word
        "NCT01234567X",
        "ISRCTN1234567",
        "2019-001234-567",  # EudraCT shape with a longer tail
        "1985-001234-56",  # implausible year and no "EudraCT" label
        "on 2019-01-12 at 10:30",
        "call 1-800-555-0131",
        "ACTRN1262000012345",  # 13 digits
        "CTRI/2020/5/025123",
        "DRKS0001234",
        "jRCT203120000",
        "UMIN00001234",
        "KCT000123",
        "KCT00012345",
        "IRCT2020010104602",  # no N suffix
        "PACTR20200112345678",
        "RBR-6q",
        "RBR-6QVDFTM",
        "TCTR2020010100",
        "an NCT number tells you little",
    ],
)
def test_registry_near_misses(text: str) -> None:
    assert find_registry_ids(text) == []


def test_eu_ct_number_is_not_also_a_eudract_number() -> None:
    hits = find_registry_ids("EU CT number 2023-503513-28-00; EudraCT 2015-001234-56.")
    assert [(h.value.registry, h.value.id) for h in hits] == [  # type: ignore[union-attr]
        ("EU CT", "2023-503513-28-00"),
        ("EudraCT", "2015-001234-56"),
    ]


URLS = [
    ("https://clinicaltrials.gov/study/NCT01234567", "NCT01234567", CT_GOV + "NCT01234567"),
    ("https://clinicaltrials.gov/ct2/show/NCT01234567?term=ra", "NCT01234567", None),
    ("https://www.clinicaltrials.gov/ct2/show/record/NCT01234567", "NCT01234567", None),
    ("clinicaltrials.gov/study/NCT01234567", "NCT01234567", None),
    ("http://isrctn.com/ISRCTN12345678", "ISRCTN12345678", None),
    (
        "https://www.anzctr.org.au/Trial/Registration/TrialReview.aspx?ACTRN=12620000123456",
        "ACTRN12620000123456",
        "https://www.anzctr.org.au/ACTRN12620000123456.aspx",
    ),
    ("https://www.anzctr.org.au/ACTRN12620000123456p.aspx", "ACTRN12620000123456", None),
    (
        "https://www.clinicaltrialsregister.eu/ctr-search/trial/2019-001234-56/DE",
        "2019-001234-56",
        None,
    ),
    ("https://euclinicaltrials.eu/ctis-public/view/2022-500123-45-00", "2022-500123-45-00", None),
    ("https://drks.de/search/en/trial/DRKS00012345", "DRKS00012345", None),
    (
        "https://trialsearch.who.int/Trial2.aspx?TrialID=ChiCTR2000029606",
        "ChiCTR2000029606",
        "https://trialsearch.who.int/Trial2.aspx?TrialID=ChiCTR2000029606",
    ),
    ("https://ensaiosclinicos.gov.br/rg/RBR-6qvdftm", "RBR-6qvdftm", None),
    ("https://www.thaiclinicaltrials.org/show/TCTR20200101001", "TCTR20200101001", None),
]


@pytest.mark.parametrize(("url", "normal", "record_url"), URLS)
def test_registry_id_from_url(url: str, normal: str, record_url: str | None) -> None:
    found = registry_id_from_url(url)
    assert found is not None and found.id == normal
    assert found.url is not None
    if record_url is not None:
        assert found.url == record_url


@pytest.mark.parametrize(
    "url",
    [
        "https://pubmed.ncbi.nlm.nih.gov/?term=NCT01234567",  # a mention, not a record
        "https://clinicaltrials.gov/search?cond=arthritis",
        "https://news.example/clinicaltrials.gov/NCT01234567",
        "https://clinicaltrials.gov.evil.example/study/NCT01234567",
        "not a url",
    ],
)
def test_registry_id_from_url_rejects(url: str) -> None:
    assert registry_id_from_url(url) is None


# --- IND numbers -------------------------------------------------------------------------------

IND_NUMBERS = [
    ("Our study runs under IND 123456.", "IND 123456", "123456"),
    ("IND #17542", "IND #17542", "17542"),
    ("IND#17542", "IND#17542", "17542"),
    ("IND No. 19,876", "IND No. 19,876", "19876"),
    ("IND number 012345", "IND number 012345", "012345"),
    ("IND number: 012345", "IND number: 012345", "012345"),
    ("conducted under IND 27,654 held by the university", "IND 27,654", "27654"),
    ("BB-IND 12345", "BB-IND 12345", "12345"),
    ("IND: 123456", "IND: 123456", "123456"),
    ("IND-123456", "IND-123456", "123456"),
    ("IND application number 654321", "IND application number 654321", "654321"),
    ("Investigational New Drug application 123456", None, "123456"),
    ("an Investigational New Drug (IND) application #123456", None, "123456"),
    ("investigational new drug application no. 654321", None, "654321"),
    ("Investigational New Drug application (IND) 98765", None, "98765"),
]


@pytest.mark.parametrize(("text", "span", "number"), IND_NUMBERS)
def test_ind_number_forms(text: str, span: str | None, number: str) -> None:
    (hit,) = find_ind_numbers(text)
    assert hit.value == number
    assert hit.text == text[hit.start : hit.end]
    if span is not None:
        assert hit.text == span


@pytest.mark.parametrize(
    "text",
    [
        "This study is being done under an IND.",
        "Ask for the IND number and check it.",
        "India 2020 medical tourism report",
        "IND-2 cell product",
        "IND-12 lot",
        "INDEX 12345",
        "FIND 12345 more",
        "BIND 12345",
        "ind 12345",  # the abbreviation is written in capitals
        "IND 2020",  # four digits: more often a year than an IND
        "IND 1234567",
        "IND 123.456",
        "under an IND in 2019, number 12345 was assigned",
        "an investigational new drug application (IND) with the FDA",
    ],
)
def test_ind_near_misses(text: str) -> None:
    assert find_ind_numbers(text) == []


# --- Money -------------------------------------------------------------------------------------

# (text, currency, amount, low, high, qualifier, period)
MONEY = [
    (
        "Packages start at $4,900 (airport pickup included)",
        "USD",
        4900,
        4900,
        None,
        "starting_at",
        None,
    ),
    ("The standard protocol is $4500.", "USD", 4500, None, None, "exact", None),
    ("A deposit of $2,000 USD reserves your date", "USD", 2000, None, None, "exact", None),
    ("Plus: $168,000 MXN", "MXN", 168000, None, None, "exact", None),
    ("MX$ 12,500 por sesión", "MXN", 12500, None, None, "exact", "session"),
    ("Costo total 35.000 pesos", "MXN", 35000, None, None, "exact", None),
    ("Kur 10 Tage € 18.500", "EUR", 18500, None, None, "exact", None),
    ("Gesamtpreis 18.500,00 €", "EUR", 18500, None, None, "exact", None),
    ("Preis: 4.500 EUR inklusive Hotel", "EUR", 4500, None, None, "exact", None),
    ("Behandlung 8.900 Euro", "EUR", 8900, None, None, "exact", None),
    ("Forfait 4\u00a0500 € tout compris", "EUR", 4500, None, None, "exact", None),
    ("Forfait 4\u202f500 €", "EUR", 4500, None, None, "exact", None),
    ("One knee: £3,250", "GBP", 3250, None, None, "exact", None),
    ("GBP 3,250 per knee", "GBP", 3250, None, None, "exact", None),
    ("Longevity Essentials ฿ 545,000", "THB", 545000, None, None, "exact", None),
    ("about 120,000 baht for the week", "THB", 120000, None, None, "exact", None),
    ("costs ₹6,50,000 for Indian patients", "INR", 650000, None, None, "exact", None),
    ("Rs. 2,50,000 only", "INR", 250000, None, None, "exact", None),
    ("INR 95,000 per cycle", "INR", 95000, None, None, "exact", None),
    ("nearly 25 lakh rupees", "INR", 2_500_000, None, None, "exact", None),
    ("₹ 3.5 lakh", "INR", 350_000, None, None, "exact", None),
    ("治療費 948,000円(税込)", "JPY", 948_000, None, None, "exact", None),
    ("費用は250万円です", "JPY", 2_500_000, None, None, "exact", None),
    ("一次治疗约5000元", "CNY", 5000, None, None, "exact", None),
    ("줄기세포 주사 300만원", "KRW", 3_000_000, None, None, "exact", None),
    ("ราคา 120,000 บาท", "THB", 120_000, None, None, "exact", None),
    ("COL$ 25.000.000 el paquete", "COP", 25_000_000, None, None, "exact", None),
    ("COP 18.000.000", "COP", 18_000_000, None, None, "exact", None),
    ("R$ 15.000 à vista", "BRL", 15000, None, None, "exact", None),
    ("C$ 9,800 in Vancouver", "CAD", 9800, None, None, "exact", None),
    ("A$12,000 all-inclusive", "AUD", 12000, None, None, "exact", None),
    ("S$ 8,000", "SGD", 8000, None, None, "exact", None),
    ("CHF 12'000 pro Kur", "CHF", 12000, None, None, "exact", None),
    ("including hospital stay ₩24,000,000", "KRW", 24_000_000, None, None, "exact", None),
    ("3,000,000 won per knee", "KRW", 3_000_000, None, None, "exact", None),
    ("¥1,500,000", "JPY", 1_500_000, None, None, "exact", None),
    ("AED 45,000 for the program", "AED", 45000, None, None, "exact", None),
    ("₺150.000", "TRY", 150000, None, None, "exact", None),
    ("150.000 TL peşin", "TRY", 150000, None, None, "exact", None),
    ("₴ 120 000", "UAH", 120000, None, None, "exact", None),
    ("B/. 9,500", "PAB", 9500, None, None, "exact", None),
    ("9,500 balboas", "PAB", 9500, None, None, "exact", None),
    ("₡ 2.500.000", "CRC", 2_500_000, None, None, "exact", None),
    ("2.500.000 colones", "CRC", 2_500_000, None, None, "exact", None),
    ("US$ 7,950", "USD", 7950, None, None, "exact", None),
    ("U$S 4.500", "USD", 4500, None, None, "exact", None),
    ("USD$ 5,000", "USD", 5000, None, None, "exact", None),
    ("USD 9,800 for international patients", "USD", 9800, None, None, "exact", None),
    ("$ 3,500 cash", "USD", 3500, None, None, "exact", None),
    ("5 000 $ par traitement", "USD", 5000, None, None, "exact", None),
    ("Total $4,500.00 due", "USD", 4500, None, None, "exact", None),
    ("a $1.9 million verdict", "USD", 1_900_000, None, None, "exact", None),
    ("1,2 Mio. € Umsatz", "EUR", 1_200_000, None, None, "exact", None),
    ("a $12k protocol", "USD", 12000, None, None, "exact", None),
    ("a $12K protocol", "USD", 12000, None, None, "exact", None),
    ("$9.5k financed", "USD", 9500, None, None, "exact", None),
    ("$4,500 - $12,000", "USD", None, 4500, 12000, "range", None),
    ("$4,500–12,000", "USD", None, 4500, 12000, "range", None),
    ("costs between $5,000 and $8,000", "USD", None, 5000, 8000, "range", None),
    ("from $3,000 to $5,000", "USD", None, 3000, 5000, "range", None),
    ("€ 8.900 bis € 14.500", "EUR", None, 8900, 14500, "range", None),
    ("usually $5-10k", "USD", None, 5000, 10000, "range", None),
    ("4,500 - 12,000 USD", "USD", None, 4500, 12000, "range", None),
    ("zwischen 5.000 und 8.000 Euro", "EUR", None, 5000, 8000, "range", None),
    ("de $3,000 a $5,000 USD", "USD", None, 3000, 5000, "range", None),
    ("$5,000 - 8,000 MXN", "MXN", None, 5000, 8000, "range", None),
    ("payments as low as $189/month", "USD", 189, 189, None, "starting_at", "month"),
    ("desde $3,500 USD", "USD", 3500, 3500, None, "starting_at", None),
    ("ab € 8.900", "EUR", 8900, 8900, None, "starting_at", None),
    ("a partir de $2,900", "USD", 2900, 2900, None, "starting_at", None),
    (
        "Treatment packages begin at $18,600 for adults",
        "USD",
        18600,
        18600,
        None,
        "starting_at",
        None,
    ),
    ("All-inclusive from $19,800", "USD", 19800, 19800, None, "starting_at", None),
    (
        "Affordable plans: $299/month with approved credit",
        "USD",
        299,
        None,
        None,
        "per_month",
        "month",
    ),
    ("$149 per month", "USD", 149, None, None, "per_month", "month"),
    ("only $99 a month", "USD", 99, None, None, "per_month", "month"),
    ("$79/mo", "USD", 79, None, None, "per_month", "month"),
    ("$1.500 al mes", "USD", 1500, None, None, "per_month", "month"),
    ("€ 250 monatlich", "EUR", 250, None, None, "per_month", "month"),
    ("$66.75/month, cancel anytime", "USD", 66.75, None, None, "per_month", "month"),
    ("$1,450/month (12-month commitment)", "USD", 1450, None, None, "per_month", "month"),
    ("12 monthly payments of $499", "USD", 499, None, None, "per_month", "month"),
    ("up to $10,000", "USD", 10000, None, 10000, "up_to", None),
    ("hasta $8,000 USD", "USD", 8000, None, 8000, "up_to", None),
    ("payments under $250 per month.", "USD", 250, None, 250, "up_to", "month"),
    ("Storage is $185 per year", "USD", 185, None, None, "exact", "year"),
    ("Companion stay: $95 per night", "USD", 95, None, None, "exact", "night"),
    ("$395 per session", "USD", 395, None, None, "exact", "session"),
    ("most attendees qualify for $0 down", "USD", 0, None, None, "exact", None),
    ("March Special - $1,000 OFF", "USD", 1000, None, None, "exact", None),
    ("the clinic charged $5,000-per-eye", "USD", 5000, None, None, "exact", None),
    ("Each vial is priced at $4,900", "USD", 4900, None, None, "exact", None),
    ("Die Kur kostet 3.500 US-Dollar", "USD", 3500, None, None, "exact", None),
    ("Pauschal EUR 5.000,- inklusive Transfer", "EUR", 5000, None, None, "exact", None),
    ("Plan: 1,500 USD/month", "USD", 1500, None, None, "per_month", "month"),
    ("1 500 000 pesos colombianos", "COP", 1_500_000, None, None, "exact", None),
    ("5,000 Canadian dollars", "CAD", 5000, None, None, "exact", None),
    (
        "Our standard lung protocol is $7,950 and includes follow-up.",
        "USD",
        7950,
        None,
        None,
        "exact",
        None,
    ),
    (
        "Reserve your date with a $3,000 deposit, applied to your package.",
        "USD",
        3000,
        None,
        None,
        "exact",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "currency", "amount", "low", "high", "qualifier", "period"), MONEY
)
def test_money_forms(
    text: str,
    currency: str,
    amount: float | None,
    low: float | None,
    high: float | None,
    qualifier: str,
    period: str | None,
) -> None:
    (hit,) = find_money(text)
    money = hit.value
    assert isinstance(money, Money)
    got = (money.currency, money.amount, money.low, money.high, money.qualifier, money.period)
    assert got == (currency, amount, low, high, qualifier, period)
    assert hit.text == money.text == text[hit.start : hit.end]


@pytest.mark.parametrize(
    "text",
    [
        "$",
        "$$$",
        "Price range: $$$$",
        "US$ and € accepted",
        "Pay in USD or EUR",
        "Founded in 2019",
        "92% of patients improved",
        "92 % satisfaction",
        "50 million cells per dose",
        "100 million MSCs",
        "Call (702) 555-0131 today",
        "+1 702 555 0131",
        "Open 9:00-17:00",
        "12k followers",
        "4,500 patients treated",
        "Over 1,000 procedures since 2010",
        "In 2019 won the regional award",
        "measured in 2020 dollars",
        "TRY 30 DAYS RISK-FREE",
        "INDEX 12345",
        "Price: upon request",
        "10 mg twice daily, 5 ml vials",
        "Registered as NCT01234567",
        "Rs",
        "the 1990s",
        "3万人の患者",  # 30,000 patients
        "化学元素 100元素",
    ],
)
def test_money_negatives(text: str) -> None:
    assert find_money(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two table cells in one line, each its own price
        (
            "Plus 100 millones $9,800 USD $168,000 MXN",
            [("$9,800 USD", "USD", 9800), ("$168,000 MXN", "MXN", 168000)],
        ),
        (
            "Essentials 100M MSC 4 ฿ 545,000 $15,500",
            [("฿ 545,000", "THB", 545000), ("$15,500", "USD", 15500)],
        ),
        ("Single joint $4,950 $3,950", [("$4,950", "USD", 4950), ("$3,950", "USD", 3950)]),
        ("All-inclusive: $16,900 300 million cells", [("$16,900", "USD", 16900)]),
        ("Deposit $500 - 555-0131", [("$500", "USD", 500)]),  # a phone number is no range
        ("Save $20 - 50% off", [("$20", "USD", 20)]),
        (
            "$6,900 USD - $118,000 MXN",
            [("$6,900 USD", "USD", 6900), ("$118,000 MXN", "MXN", 118000)],
        ),
        # an open upper end is no range: the first price is a floor, the second stands alone
        (
            "quotes from $6,000 to more than $30,000",
            [("$6,000", "USD", 6000), ("$30,000", "USD", 30000)],
        ),
    ],
)
def test_adjacent_prices_stay_apart(text: str, expected: list[tuple[str, str, float]]) -> None:
    got = [(h.text, h.value.currency, h.value.amount) for h in find_money(text)]  # type: ignore[union-attr]
    assert got == expected


def test_find_all_orders_and_never_overlaps() -> None:
    text = (
        "Enrollment fee $8,000 for NCT01234567 under IND 123456; "
        "deposit USD 2,000; see ISRCTN12345678."
    )
    hits = find_all(text)
    assert [h.kind for h in hits] == [
        "money",
        "registry_id",
        "ind_number",
        "money",
        "registry_id",
    ]
    assert all(a.end <= b.start for a, b in zip(hits, hits[1:], strict=False))
    assert [h.text for h in hits] == [
        "$8,000",
        "NCT01234567",
        "IND 123456",
        "USD 2,000",
        "ISRCTN12345678",
    ]


# --- Dev corpus --------------------------------------------------------------------------------

_PRICE_SIGN = re.compile(r"(?:[$€£฿₹₩]\s?\d|\d\s?(?:USD|EUR|MXN|€))")
_NCT_LOOSE = re.compile(r"(?i)nct ?(\d{8})")


def _page_text(path: Path) -> str:
    """Visible text of a corpus page, every element run together on one line.

    Harsher than the real extractor, which keeps blocks apart: table cells end up side by side.
    """
    soup = BeautifulSoup(path.read_bytes(), "lxml")
    for tag in soup(["script", "style", "template"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def test_corpus_price_evidence_is_found(corpus: Path) -> None:
    checked = 0
    for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        for evidence in label["evidence"].get("price_or_payment", []):
            page, phrase = evidence.split(": ", 1)
            if not _PRICE_SIGN.search(phrase):
                continue  # "Payment in full is required ..." names no amount
            text = _page_text(corpus / label["site"] / page)
            at = text.find(phrase)
            assert at >= 0, evidence
            inside = [h for h in find_money(text) if at <= h.start < at + len(phrase)]
            assert inside, f"no price found in {label['site']}/{evidence}"
            checked += 1
    assert checked >= 40


def test_corpus_every_price_sign_and_nct_id_is_read(corpus: Path) -> None:
    pages = sorted(corpus.glob("*/*.html"))
    assert pages
    for page in pages:
        text = _page_text(page)
        money = find_money(text)
        for sign in _PRICE_SIGN.finditer(text):
            assert any(h.start <= sign.start() < h.end for h in money), (page, sign.group())
        ids = find_registry_ids(text)
        assert {h.value.id for h in ids} == {  # type: ignore[union-attr]
            "NCT" + m.group(1) for m in _NCT_LOOSE.finditer(text)
        }, page
        # the corpus names no IND number and only NCT registrations: anything else is a false hit
        assert find_ind_numbers(text) == [], page
        assert {h.value.registry for h in ids} <= {"ClinicalTrials.gov"}  # type: ignore[union-attr]


# --- Speed -------------------------------------------------------------------------------------


def _random(alphabet: str) -> Callable[[int], str]:
    rng = random.Random(7)
    return lambda n: "".join(rng.choice(alphabet) for _ in range(n))


def _repeat(piece: str) -> Callable[[int], str]:
    return lambda n: piece * (n // len(piece))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_random("0123456789,. -"), id="digits+seps"),
        pytest.param(_repeat("123 "), id="space-groups"),
        pytest.param(_repeat("1"), id="one-digit-run"),
        pytest.param(_repeat("$"), id="dollars"),
        pytest.param(_repeat("IND # No. "), id="ind-labels"),
        pytest.param(_repeat("2019-"), id="dates"),
        pytest.param(lambda n: "NCT" + "0" * n, id="long-nct"),
    ],
)
def test_time_grows_in_step_with_the_text(make: Callable[[int], str]) -> None:
    # A guard against backtracking blow-ups, not a speed goal (those are in `make bench`): they
    # grow with the square of the text or worse, so eight times the text would take 64 times as
    # long or more; in step with it, about eight. Compared within one run, whatever the machine.
    small, large = make(32_000), make(256_000)
    small_s = min(_seconds(find_all, small) for _ in range(3))
    assert _seconds(find_all, large) < max(24 * small_s, 0.05)


def _seconds(work: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    work(text)
    return time.perf_counter() - started


def test_prices_are_looked_for_only_near_digits_and_found_all_the_same(corpus: Path) -> None:
    """``find_money`` tries its pattern only up to DIGIT_WITHIN characters before a digit: the
    bound must hold for the grammar, and the matches must be those of a scan of whole lines."""
    # A price is a prefix and a space at most, then a number, which starts with a digit.
    prefix_width = sre_parse.parse(money_grammar._PREFIX).getwidth()[1]
    assert prefix_width + 1 <= money_grammar.DIGIT_WITHIN

    rng = random.Random(11)
    pieces = ["US$", "U$S", "$ USD", "USD", "€", "£ ", " ", "\u00a0", "1", "25", "3,500"]
    pieces += ["4.200", "k", " million", " dollars", " euros", "-", " to ", "x", "\n", ".", ","]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    texts += [p.read_text("utf-8", "replace") for p in sorted(corpus.glob("*/*.htm*"))]
    found = 0
    for text in texts:
        whole_lines = list(scan.finditer_digit_lines(money_grammar.SINGLE, text))
        for m in whole_lines:
            digit = re.search(r"\d", m.group())
            assert digit is not None and digit.start() <= money_grammar.DIGIT_WITHIN, m
        near = scan.finditer_near_digits(money_grammar.SINGLE, text, money_grammar.DIGIT_WITHIN)
        assert [m.span() for m in near] == [m.span() for m in whole_lines], text
        found += len(whole_lines)
    assert found > 3000  # the texts hold prices to find, not only near misses
