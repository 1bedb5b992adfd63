"""Words that label a page (its title, its description, a menu item) support a finding but
never make one on their own (issue 11)."""

from __future__ import annotations

from app.engine.analyzer import Engine
from app.engine.assembly import LABEL_ONLY
from app.extract.document import extract_html

BODY = (
    "<p>We offer stem cell injections for knee arthritis at our clinic in Tijuana. "
    "Book your consultation with our team today; we answer within a day.</p>"
)


def _cure_rules(engine: Engine, html: str) -> tuple[set[str], list[str]]:
    page = extract_html(html, "https://clinic.example/")
    report = engine.analyze([page], page.source, explain=True)
    fired = {f.rule_id for f in report.findings if f.category == "cure_claim"}
    reasons = [d.reason or "" for d in report.discarded or [] if d.rule_id.startswith("cure")]
    return fired, reasons


def test_a_cure_only_in_the_title_or_a_menu_is_set_aside_saying_why(engine: Engine) -> None:
    for label in (
        "<title>Stem cells cure arthritis | Clinic</title>",
        "<nav><ul><li><a href='/c'>We cure arthritis</a></li></ul></nav>",
    ):
        fired, reasons = _cure_rules(
            engine, f"<html><head>{label}</head><body>{BODY}</body></html>"
        )
        assert not fired, label
        assert LABEL_ONLY in reasons, label


def test_the_same_words_in_a_sentence_make_the_finding(engine: Engine) -> None:
    sentence = "<p>Our stem cell treatment cures rheumatoid arthritis for good.</p>"
    fired, _ = _cure_rules(engine, f"<html><body>{BODY}{sentence}</body></html>")
    assert fired


def test_a_noscript_notice_is_never_a_sign(engine: Engine) -> None:
    """Issue 11: what a page shows only without JavaScript is read as its own region, which
    no rule reads unless it lists it."""
    notice = "<noscript><p>Our stem cells cure arthritis: enable JavaScript to book.</p></noscript>"
    page = extract_html(f"<html><body>{notice}{BODY}</body></html>", "https://clinic.example/")
    assert [b.region for b in page.blocks if "enable JavaScript" in b.text] == ["noscript"]
    report = engine.analyze([page], page.source, explain=True)
    assert not [f for f in report.findings if f.category == "cure_claim"]
    assert any("noscript" in (d.reason or "") for d in report.discarded or [])
