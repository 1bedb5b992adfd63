"""Tests for the Extract stage: decoding, visible text as blocks, page facts and bad input."""

from __future__ import annotations

import codecs
import json
import os
import pickle
import time
from dataclasses import fields
from pathlib import Path

import pytest

from app.extract.document import (
    ExtractionError,
    decode_document,
    extract_document,
    extract_html,
    extract_text,
)
from app.extract.page import Block, ExtractedPage, Link
from app.extract.walker import Walker, parse

CORPUS = Path(
    os.environ.get("REDFLAGS_CORPUS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "dev"
)


def _kinds(page: ExtractedPage) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in page.blocks]


def _find(page: ExtractedPage, needle: str):
    return next(b for b in page.blocks if needle in b.text)


def _assert_offsets(page: ExtractedPage) -> None:
    assert page.text == "\n\n".join(b.text for b in page.blocks)
    for block in page.blocks:
        assert page.text[block.start : block.end] == block.text


def _collapse(text: str) -> str:
    return " ".join(text.split())


# --- The dev corpus ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> dict[str, ExtractedPage]:
    """Every corpus page extracted once, keyed "site/page.html"."""
    if not (CORPUS / "labels.jsonl").is_file():
        pytest.skip(f"dev corpus not found at {CORPUS} (set REDFLAGS_CORPUS to its folder)")
    return {
        f"{path.parent.name}/{path.name}": extract_html(path.read_bytes(), str(path))
        for path in sorted(CORPUS.glob("s*/*.html"))
    }


def test_every_labelled_evidence_phrase_is_in_the_extracted_text(corpus):
    missing = []
    for line in (CORPUS / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        for items in label["evidence"].values():
            for item in items:
                page, phrase = item.split(": ", 1)
                text = _collapse(corpus[f"{label['site']}/{page}"].text)
                if _collapse(phrase) not in text:
                    missing.append(f"{label['site']}/{page}: {phrase}")
    assert not missing, "\n".join(missing)


def test_corpus_pages_have_consistent_offsets_and_no_warnings(corpus):
    assert len(corpus) >= 100
    for key, page in corpus.items():
        _assert_offsets(page)
        assert page.warnings == (), key


@pytest.mark.parametrize(
    ("page", "phrase"),
    [
        ("s02-consumer-health-safety-update/index.html", "stem cell cure"),  # search synonyms
        ("s02-consumer-health-safety-update/index.html", "cheap stem cells mexico"),
        ("s08-valley-ledger-investigation/index.html", "mexico clinics"),  # ad targeting
        ("s18-news-eye-injections-blindness/index.html", "macular degeneration cure"),
        ("s01-desert-bloom-regenerative/index.html", "Cure-focused care"),  # CSS content
        ("s01-desert-bloom-regenerative/index.html", "ra-cure-lp"),  # analytics label
    ],
)
def test_script_and_style_contents_are_not_text(corpus, page, phrase):
    assert phrase.lower() not in corpus[page].text.lower()


def test_no_page_text_looks_like_code(corpus):
    for key, page in corpus.items():
        for marker in ("function(", "gtag(", "dataLayer", "@context", "{", "display:none"):
            assert marker not in page.text, (key, marker)


def test_aria_hidden_keyword_stuffing_is_dropped(corpus):
    page = corpus["s44-rheumarenew-telehealth-ad/index.html"]
    assert "stem cells near me" not in page.text
    assert "★" not in corpus["s01-desert-bloom-regenerative/testimonials.html"].text


def test_noscript_fallback_of_a_javascript_page_is_read(corpus):
    page = corpus["s73-stem-cell-quiz-telehealth/index.html"]
    assert _find(page, "Why thousands are choosing stem cells").kind == "heading"
    assert page.word_count > 200


def test_windows_1252_pages_decode(corpus):
    assert "€ 18.500" in corpus["s31-zellklinik-sonnenberg/preise.html"].text
    assert "Lindenhöhe" in corpus["s72-lindenhoehe-zellklinik-baden/index.html"].text


def test_corpus_page_facts(corpus):
    clinic = corpus["s01-desert-bloom-regenerative/index.html"]
    assert clinic.structured_prices == ("$$$",)
    assert clinic.lang == "en-US"
    assert clinic.blocks[0].kind == "title" and clinic.blocks[0].text == clinic.title
    assert corpus["s06-northgate-orthopedics/index.html"].structured_prices == ("USD 650",)
    trial = corpus["s04-greatlakes-univ-ra-msc-trial/index.html"]
    assert trial.registry_links == ("https://clinicaltrials.gov/study/NCT09418263",)
    pricing = corpus["s01-desert-bloom-regenerative/pricing.html"]
    row = _find(pricing, "Single Joint Restoration")
    assert row.kind == "table_cell" and row.text.endswith("| $4,200")
    assert {b.region for b in pricing.blocks if b.kind == "link"} >= {"nav", "footer"}
    banner = _find(corpus["s08-valley-ledger-investigation/index.html"], "We use cookies")
    assert banner.region == "footer"


# --- Structure of HTML -------------------------------------------------------------------------

SHOP_PAGE = """<!DOCTYPE html>
<html lang="de-CH"><head>
<title>Knee Help &amp; More</title>
<meta name="description" content="Fresh   cartilage, we say.">
<style>.x{color:red}</style>
<script>var secret = "miracle words in a script";</script>
</head><body>
<header><a href="/" class="logo">Knee Help</a>
  <nav><a href="/">Home</a> | <a href="/prices">Prices</a> |
    <a href="/book" class="btn btn-cta">Book</a></nav>
</header>
<main>
  <article><header><h1>Our  knee <em>programme</em></h1></header>
    <p>We talk&nbsp;about knees, car&shy;tilage and the&#8203;rapy with “curly quotes”
      &amp; more.<br>Second line.</p>
  </article>
  <div>Loose words in a div <span>with a span</span> <a href="/more">and a link</a> inside.
    <div>A nested div.</div>
    Tail words after the nested div.
  </div>
  <ul><li>First item</li><li><a href="/only-link">Only a link</a></li></ul>
  <table><tr><th>Treatment</th><th>Price</th></tr>
    <tr><td><p>Single knee</p></td><td><strong>$4,500</strong></td></tr></table>
  <blockquote><p>It changed my life.</p></blockquote>
  <figure><figcaption>A happy patient</figcaption></figure>
  <dl><dt>Term</dt><dd>Definition</dd></dl>
  <details><summary>Is it safe?</summary><p>Ask your doctor.</p></details>
  <form><label>Your name</label><input type="text" value="typed"><input type="hidden" value="token">
    <input type="submit" value="Send it"><button>Call me</button>
    <select><option>Option text</option></select></form>
  <p>Quote inline: <q>inline quote</q> stays.</p>
  <p hidden>hidden attribute</p><p aria-hidden="true">aria hidden</p>
  <p style="color: red; display : none">display none</p>
  <div style="visibility:hidden">invisible</div>
  <template><p>template text</p></template><svg><text>svg text</text></svg>
  <iframe>frame text</iframe><!-- a comment -->
  <noscript><p>Please enable JavaScript to see the quiz.</p></noscript>
</main>
<aside>Side note.</aside>
<div role="navigation"><a href="/a">Role nav</a></div>
<div class="cookie-banner">We use cookies.</div>
<footer><p>Footer words.</p></footer>
<div role="contentinfo">Content info.</div>
</body></html>"""


@pytest.fixture(scope="module")
def shop() -> ExtractedPage:
    return extract_html(SHOP_PAGE, "https://knees.example/", base_url="https://knees.example/x/")


def test_blocks_kinds_and_text(shop):
    kinds = _kinds(shop)
    assert kinds[:2] == [("title", "Knee Help & More"), ("meta", "Fresh cartilage, we say.")]
    assert ("heading", "Our knee programme") in kinds
    paragraph = (
        "We talk about knees, cartilage and therapy with “curly quotes” & more. Second line."
    )
    assert ("paragraph", paragraph) in kinds
    assert ("text", "Loose words in a div with a span and a link inside.") in kinds
    assert ("text", "A nested div.") in kinds
    assert ("text", "Tail words after the nested div.") in kinds
    assert ("list_item", "First item") in kinds
    assert ("link", "Only a link") in kinds
    assert ("table_cell", "Treatment | Price") in kinds
    assert ("table_cell", "Single knee | $4,500") in kinds
    assert ("quote", "It changed my life.") in kinds
    assert ("quote", "A happy patient") in kinds
    assert ("list_item", "Term") in kinds and ("list_item", "Definition") in kinds
    assert ("text", "Is it safe?") in kinds and ("paragraph", "Ask your doctor.") in kinds
    assert ("text", "Your name") in kinds
    assert ("button", "Send it") in kinds and ("button", "Call me") in kinds
    assert ("paragraph", "Quote inline: inline quote stays.") in kinds
    assert ("paragraph", "Please enable JavaScript to see the quiz.") in kinds
    _assert_offsets(shop)


def test_dropped_content(shop):
    for gone in (
        "miracle words",
        "color:red",
        "hidden attribute",
        "aria hidden",
        "display none",
        "invisible",
        "template text",
        "svg text",
        "frame text",
        "a comment",
        "token",
        "typed",
        "Option text",
    ):
        assert gone not in shop.text, gone


def test_nav_links_are_separate_blocks(shop):
    nav = [(b.kind, b.text) for b in shop.blocks if b.region == "nav"]
    assert nav == [("link", "Home"), ("link", "Prices"), ("button", "Book"), ("link", "Role nav")]


def test_regions(shop):
    region = {b.text: b.region for b in shop.blocks}
    assert region["Knee Help"] == "header"
    assert region["Our knee programme"] == "main"  # an article's own <header>
    assert region["Side note."] == "aside"
    assert region["We use cookies."] == "footer"
    assert region["Footer words."] == "footer"
    assert region["Content info."] == "footer"
    assert region["Knee Help & More"] == "header"


def test_page_facts(shop):
    assert shop.title == "Knee Help & More"
    assert shop.description == "Fresh cartilage, we say."
    assert shop.lang == "de-CH"
    hrefs = [link.href for link in shop.links]
    assert "https://knees.example/prices" in hrefs
    assert "https://knees.example/more" in hrefs
    assert {"href": "https://knees.example/only-link", "text": "Only a link"} in [
        {"href": link.href, "text": link.text} for link in shop.links
    ]


def test_noscript_in_head_and_noscript_kept_as_raw_text():
    page = extract_html("<head><noscript><p>Head fallback words.</p></noscript></head>", "n")
    assert _kinds(page) == [("paragraph", "Head fallback words.")]
    # Parsers built on older libxml2 versions keep <noscript> content as one raw string.
    root = parse("<body><noscript>x</noscript></body>")
    assert root is not None
    root.find(".//noscript").text = "<h2>Raw fallback</h2><p>Still <b>readable</b>.</p>"
    walker = Walker(None)
    walker.run(root)
    # Read, and as a few words only: a notice, in a region of its own that no rule reads.
    assert walker.entries == [
        ("Raw fallback", "heading", "noscript"),
        ("Still readable.", "paragraph", "noscript"),
    ]


def test_layout_table_cells_stay_apart():
    page = extract_html(
        "<table><tr><td><h1>Welcome</h1><p>Some text.</p></td><td><p>Other column.</p></td>"
        "</tr></table>",
        "t",
    )
    assert _kinds(page) == [
        ("heading", "Welcome"),
        ("paragraph", "Some text."),
        ("paragraph", "Other column."),
    ]


def test_og_fallbacks_for_title_and_description():
    page = extract_html(
        '<head><meta property="og:title" content="Shared title">'
        '<meta property="og:description" content="Shared blurb"></head><body><p>x</p></body>',
        "t",
    )
    assert (page.title, page.description) == ("Shared title", "Shared blurb")
    assert _kinds(page)[:2] == [("title", "Shared title"), ("meta", "Shared blurb")]


def test_links_skip_scripts_and_contacts_and_honour_base():
    page = extract_html(
        '<head><base href="https://cdn.example/site/"></head><body>'
        '<a href="javascript:void(0)">js</a><a href="mailto:a@b.example">mail</a>'
        '<a href="tel:555">call</a><a href="page.html">Page</a>'
        '<a href="https://www.clinicaltrials.gov/study/NCT09000001">Trial</a>'
        '<a href="https://www.isrctn.com/ISRCTN12345678">Another</a>'
        '<a href="https://notclinicaltrials.gov.example/x">Fake</a>'
        '<a hidden href="https://anzctr.org.au/Trial/1">Hidden</a>'
        '<nav style="display:none"><a href="https://drks.de/search">Hidden registry link</a></nav>'
        "</body>",
        "t",
        base_url="https://clinic.example/",
    )
    assert [link.href for link in page.links][:1] == ["https://cdn.example/site/page.html"]
    assert page.registry_links == (
        "https://www.clinicaltrials.gov/study/NCT09000001",
        "https://www.isrctn.com/ISRCTN12345678",
        "https://anzctr.org.au/Trial/1",
        "https://drks.de/search",
    )
    assert "Hidden registry link" not in page.text


def test_links_are_kept_as_written_without_a_base():
    page = extract_html('<p><a href="../prices.html">Prices</a></p>', "t")
    assert page.links[0].href == "../prices.html"


JSON_LD = (
    """
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
  {"@type": "MedicalClinic", "priceRange": "$$$ - $4,500-$12,000"},
  {"@type": "Service", "offers": [{"@type": "Offer", "price": 4500, "priceCurrency": "USD"},
                                  {"@type": "AggregateOffer", "lowPrice": "900",
                                   "highPrice": 2500.0, "priceCurrency": "EUR"}]}]}</script>
<script type="application/ld+json">[{"@type": "Offer", "price": "75.50"}]</script>
<script type="application/ld+json">
  {"@type": "Offer", "price": "12", "priceCurrency": "GBP",}</script>
<script type="application/ld+json">{ this is not json at all </script>
<script type="application/ld+json">"""
    + "[" * 100_000
    + """</script>
<p>Prices in data.</p>
"""
)


def test_json_ld_prices_and_bad_json_ld():
    page = extract_html(JSON_LD, "t")
    assert page.structured_prices == (
        "$$$ - $4,500-$12,000",
        "USD 4500",
        "EUR 900-2500",
        "75.50",
        "GBP 12",
    )
    assert "priceRange" not in page.text


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", "", b"   \n\t ", "\n\n"])
def test_empty_document(data):
    for page in (extract_html(data, "e"), extract_text(data, "e")):
        assert page.blocks == () and page.text == ""
        assert page.warnings == ("page has no text",)
    assert decode_document(b"") == ("", [])


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        bytes(range(256)) * 4,
        b"looks like text\x00 but has a NUL byte",
        b"\x01\x02\x03\x04\x05\x06\x07\x08 mostly control bytes \x0e\x0f\x10\x11\x12\x13\x14\x15",
    ],
)
def test_binary_content_is_refused(data):
    for call in (extract_document, extract_html, extract_text):
        with pytest.raises(ExtractionError, match="not a text or HTML file"):
            call(data, "file.bin")


@pytest.mark.slow
def test_huge_page_is_cut_at_max_bytes():
    paragraph = b"<p>Our knee programme costs $4,500 and takes one afternoon.</p>\n"
    data = b"<html><body>" + paragraph * (20_000_000 // len(paragraph) + 1)
    assert len(data) > 20_000_000
    started = time.perf_counter()
    page = extract_html(data, "big.html")
    elapsed = time.perf_counter() - started
    assert page.warnings == (
        "page was larger than 5000000 bytes; only the first 5000000 were analysed",
    )
    assert 70_000 < len(page.blocks) < 80_000
    assert elapsed < 20, f"took {elapsed:.1f} s"


def test_str_input_is_cut_at_max_bytes_too():
    page = extract_html("<p>" + "é" * 600 + "</p>", "s", max_bytes=1000, min_words=0)
    assert page.warnings == ("page was larger than 1000 bytes; only the first 1000 were analysed",)
    assert 400 < len(page.text) < 500


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 10_000 + "deep words" + "</div>" * 10_000,
        "<span>" * 10_000 + "deep words" + "</span>" * 10_000,
        "<table><tr><td>" + "<b>" * 10_000 + "deep words" + "</b>" * 10_000 + "</td></tr></table>",
        '<div aria-hidden="true">'
        + "<div>" * 10_000
        + '<a href="/x">deep</a>'
        + "</div>" * 10_001
        + "<p>deep words",
        "<div>" * 10_000 + "deep words",  # never closed
    ],
)
def test_deep_nesting_does_not_recurse(html):
    page = extract_html(html, "deep.html")
    assert "deep words" in page.text


def test_a_page_too_deep_for_libxml2s_tree_keeps_its_attributes_and_links():
    # Past 2,048 levels the tree is built from the parser's events; attribute names that lxml
    # refuses there (Vue's @click and :href) are left out, the rest of the page is read.
    html = (
        '<html lang="es"><body><nav @click="go()"><a :href="x" href="/precios">Precios</a></nav>'
        + "<div>" * 3_000
        + "<p>Células madre para la rodilla.</p>"
        + "</div>" * 3_000
        + "</body></html>"
    )
    page = extract_html(html, "deep.html", base_url="https://clinica.example/")
    assert page.lang == "es"
    assert ("paragraph", "Células madre para la rodilla.") in _kinds(page)
    assert [link.href for link in page.links] == ["https://clinica.example/precios"]


def test_invalid_utf8_is_replaced_with_a_warning():
    data = "<p>Caf\u00e9 na\u00efve prices".encode() + b" \xff\xfe broken </p>"
    page = extract_html(data, "u")
    assert "Café naïve prices" in page.text and "\ufffd" in page.text
    assert "2 invalid UTF-8 byte sequence(s) were replaced" in page.warnings


def test_page_that_is_all_script():
    page = extract_html(
        "<html><head><script>document.write('stem cell cure')</script></head>"
        "<body><script>render()</script><style>p{}</style></body></html>",
        "s",
    )
    assert page.blocks == ()
    assert page.warnings == ("page has no visible text",)


def test_broken_markup_still_reads():
    page = extract_html(
        "<p>Unclosed paragraph <b>bold <i>italic<p>Next paragraph<li>loose item<div>last", "b"
    )
    assert _kinds(page) == [
        ("paragraph", "Unclosed paragraph bold italic"),
        ("paragraph", "Next paragraph"),
        ("list_item", "loose item"),
        ("list_item", "last"),  # the parser puts the <div> inside the open <li>
    ]


def test_almost_no_text_warning_threshold():
    html = "<p>" + "word " * 10 + "</p>"
    assert extract_html(html, "t").warnings == ("page has almost no text",)
    assert extract_html(html, "t", min_words=10).warnings == ()


# --- Character sets ----------------------------------------------------------------------------

GERMAN = "<p>Behandlung ab € 18.500 in der Zellklinik Lindenhöhe – „Knie“ für alle.</p>"


def test_windows_1252_declared_in_meta():
    data = ("<html><head><meta charset='windows-1252'></head><body>" + GERMAN).encode("cp1252")
    page = extract_html(data, "w")
    assert "€ 18.500" in page.text and "Zellklinik Lindenhöhe" in page.text
    assert "„Knie“" in page.text
    assert page.warnings == ("page has almost no text",)


def test_http_equiv_and_iso_8859_1_label_mean_windows_1252():
    head = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    page = extract_html((head + GERMAN).encode("cp1252"), "w")
    assert "€ 18.500" in page.text


def test_declared_charset_comes_before_meta():
    data = ('<meta charset="utf-8">' + GERMAN).encode("cp1252")
    assert "€ 18.500" in extract_html(data, "w", declared_charset="windows-1252").text
    page = extract_document(data, "w", content_type="text/html; charset=windows-1252")
    assert "Lindenhöhe" in page.text


def test_wrong_declaration_falls_back_with_a_warning():
    text, warnings = decode_document(GERMAN.encode("cp1252"), "utf-8")
    assert "Lindenhöhe" in text
    assert any("guessed cp1252" in w for w in warnings)
    data = ('<meta charset="windows-1252">' + GERMAN).encode("cp1252")
    text, warnings = decode_document(data, "utf-8")
    assert "Lindenhöhe" in text
    assert warnings == ["page is not valid utf-8; read it as cp1252"]
    text, warnings = decode_document("Zellklinik Lindenhöhe".encode(), "no-such-charset")
    assert text == "Zellklinik Lindenhöhe"
    assert warnings == ["unknown character set 'no-such-charset' declared; ignored"]


def test_undeclared_legacy_encodings_are_detected():
    assert decode_document(GERMAN.encode("cp1252"))[0] == GERMAN
    spanish = "Clínica de células madre en Cancún: niños y señoras, año 2024, desde $4,500."
    assert decode_document(spanish.encode("cp1252"))[0] == spanish
    polish = "Klinika komórek macierzystych w Łodzi, zażółć gęślą jaźń, cena 4500 zł."
    assert decode_document(polish.encode("cp1250"))[0] == polish
    russian = "Клиника стволовых клеток в Москве, цена процедуры 4500 рублей."
    assert decode_document(russian.encode("cp1251"))[0] == russian


def test_byte_order_marks():
    assert decode_document(b"\xef\xbb\xbfHello") == ("Hello", [])
    assert decode_document(codecs.BOM_UTF16_LE + "Hëllo".encode("utf-16-le")) == ("Hëllo", [])
    page = extract_document("<p>Grüße aus der Klinik</p>".encode("utf-16"), "bom.html")
    assert page.text == "Grüße aus der Klinik"


# --- Plain text and sniffing -------------------------------------------------------------------

PLAIN = """WHY CHOOSE US

Our knee programme has helped many people walk again, and we are
proud of every single one of them.

Prices
- Single knee: $4,500
- Both knees: $8,000
  with a free follow-up
1. Call us
2) Book a date
After the list comes a sentence.

# Markdown heading
Closing words.
"""


def test_plain_text_blocks():
    page = extract_text(PLAIN, "notes.txt", min_words=0)
    assert _kinds(page) == [
        ("heading", "WHY CHOOSE US"),
        (
            "paragraph",
            "Our knee programme has helped many people walk again, and we are proud of "
            "every single one of them.",
        ),
        ("heading", "Prices"),
        ("list_item", "- Single knee: $4,500"),
        ("list_item", "- Both knees: $8,000 with a free follow-up"),
        ("list_item", "1. Call us"),
        ("list_item", "2) Book a date"),
        ("paragraph", "After the list comes a sentence."),
        ("heading", "# Markdown heading"),
        ("paragraph", "Closing words."),
    ]
    assert {b.region for b in page.blocks} == {"main"}
    _assert_offsets(page)


def test_extract_document_sniffs_html_and_text():
    html = b"  <!DOCTYPE html><html><body><h1>Markup</h1></body></html>"
    assert _kinds(extract_document(html, "a")) == [("heading", "Markup")]
    assert _kinds(extract_document(b"<div>bare fragment</div>", "b")) == [("text", "bare fragment")]
    assert _kinds(extract_document(b"<b>x</b>", "c", content_type="text/html")) == [("text", "x")]
    text = extract_document(b"Just a note <b>with angle brackets</b>.", "d")
    assert _kinds(text) == [("paragraph", "Just a note <b>with angle brackets</b>.")]


def test_a_utf7_charset_is_refused_as_browsers_refuse_it():
    # Issue 9, item 7: "+ADw-script+AD4-" is <script> in UTF-7; browsers never decode it.
    text, warnings = decode_document(b"<p>Stem cells +ADw-b+AD4-cure+ADw-/b+AD4-</p>", "utf-7")
    assert "+ADw-b+AD4-" in text and "<b>" not in text
    assert any("'utf-7'" in w and "ignored" in w for w in warnings)
    meta = b'<meta charset="UTF-7"><p>+ADw-i+AD4-x</p>'
    assert "+ADw-i+AD4-" in decode_document(meta)[0]


def test_random_bytes_behind_a_utf32_bom_are_unreadable():
    # Issue 9, item 7: this came out as a page of replacement characters, "not applicable".
    noise = bytes((i * 97 + 13) % 256 for i in range(4000))
    with pytest.raises(ExtractionError, match="UTF-32-LE byte-order mark"):
        decode_document(codecs.BOM_UTF32_LE + noise)
    # Real UTF-32 and UTF-16 text behind its mark still reads.
    assert decode_document("Hola células".encode("utf-32"))[0] == "Hola células"
    assert decode_document("Stem cells".encode("utf-16"))[0] == "Stem cells"


def test_invisible_characters_are_dropped_and_whitespace_collapsed() -> None:
    # Soft hyphens and zero-width characters split words a reader sees whole ("ther­apy").
    html = (
        "<p>stem cell ther\u00adapy  for\n RA</p>"
        "<p>c\u00e9lulas\u200b madre \ufeffcuran</p>"
        "<p>cafe\u0301 menu\u2060 plain ascii   text</p>"
    ).encode()
    page = extract_document(html, "http://example.test/", content_type="text/html")
    assert [b.text for b in page.blocks] == [
        "stem cell therapy for RA",
        "c\u00e9lulas madre curan",
        "caf\u00e9 menu plain ascii text",  # and NFC: "e" + combining acute is one letter
    ]


def test_a_page_crosses_processes_whole() -> None:
    # Blocks and links pickle as constructor calls (for speed): every field must make the trip,
    # a field added later included.
    def sample(cls: type, n: int) -> object:
        values = {"start": n, "end": n + 5, "kind": "heading", "region": "nav"}
        return cls(**{f.name: values.get(f.name, f"{f.name}-{n}") for f in fields(cls)})

    page = ExtractedPage(
        "http://clinic.example/",
        "Stem cells. Prices.",
        blocks=(sample(Block, 0), sample(Block, 9)),
        links=(sample(Link, 1), sample(Link, 2)),
        title="Clinic",
    )
    back = pickle.loads(pickle.dumps(page, pickle.HIGHEST_PROTOCOL))
    assert back == page and back.blocks == page.blocks and back.links == page.links
    assert all(type(b) is Block for b in back.blocks)
