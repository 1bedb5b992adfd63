"""Identifiers in the report: visible text, schema.org data and links to registries."""

from __future__ import annotations

from app.engine.analyzer import Engine
from app.extract.document import extract_html

PAGE = """<html><head><title>Example Regenerative Clinic</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "MedicalClinic", "name": "Example Regenerative",
 "makesOffer": {"@type": "Offer", "price": "6400", "priceCurrency": "USD"}}
</script></head><body>
<p>Our stem cell knee package is $4,500, or from $199/month with financing.</p>
<p>See the study record <a href="https://clinicaltrials.gov/study/NCT09876543">here</a>.</p>
<p>The trial runs under IND 123456.</p>
</body></html>"""


def test_identifiers_come_from_text_structured_data_and_links(engine: Engine) -> None:
    page = extract_html(PAGE, "https://clinic.example/")
    ids = engine.analyze([page], "https://clinic.example/").identifiers
    prices = {(p.amount or p.low, p.currency, p.url) for p in ids.prices}
    assert (4500.0, "USD", "https://clinic.example/") in prices
    assert (6400.0, "USD", "https://clinic.example/") in prices  # from JSON-LD only
    assert any(p.qualifier == "starting_at" and p.low == 199.0 for p in ids.prices)
    registry = {r.id: r for r in ids.registry_ids}
    assert registry["NCT09876543"].registry == "ClinicalTrials.gov"  # from the link only
    assert ids.ind_numbers == ["123456"]
