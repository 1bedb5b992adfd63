"""The HTML walk: one iterative pass over the parsed tree that yields blocks of visible text.

The tree is lxml's (libxml2 parses and repairs the markup in C): BeautifulSoup, which builds its
own tree from the same parser's events in Python, took two thirds of extraction and gave the
same blocks. Broken or hostile pages can nest thousands of levels deep, past Python's recursion
limit, so the tree is walked with an explicit stack. Hidden, scripted and
boilerplate parts are dropped; each block keeps its kind (heading, list item, table cell...)
and its region (main, nav, header, footer, aside); links and JSON-LD prices are collected on
the way.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from lxml import etree

from app.extract.charset import Entry, clean_text
from app.extract.jsonld import json_ld_prices
from app.extract.page import BlockKind, Link, Region

# fmt: off
_DROPPED = frozenset({
    "script", "style", "template", "svg", "canvas", "iframe", "object", "embed", "select",
    "datalist", "textarea", "audio", "video", "map", "frameset",
})
_BLOCK_KIND: dict[str, BlockKind] = {
    **dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "heading"),
    "p": "paragraph", "li": "list_item", "dt": "list_item", "dd": "list_item",
    "td": "table_cell", "th": "table_cell", "button": "button",
    "blockquote": "quote", "figcaption": "quote",
    **dict.fromkeys(("pre", "address", "legend", "summary", "label", "caption"), "text"),
}
# Loose text directly inside these becomes "text" blocks (div soup).
_CONTAINERS = frozenset({
    "html", "head", "body", "div", "section", "article", "main", "header", "footer", "nav", "aside",
    "form", "fieldset", "details", "figure", "ul", "ol", "dl", "menu", "table", "thead", "tbody",
    "tfoot", "tr", "dialog", "hgroup", "noscript", "center", "search",
})
# A row whose cells hold none of these reads as one block ("Single knee | $4,500"); otherwise
# the table is probably page layout and each cell stands alone.
_ROW_BREAKERS = frozenset({
    "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section",
    "article", "form", "pre", "nav", "header", "footer", "aside", "main", "figure", "details",
})
_REGISTRY_DOMAINS = (
    "clinicaltrials.gov", "isrctn.com", "isrctn.org", "clinicaltrialsregister.eu",
    "euclinicaltrials.eu", "chictr.org.cn", "anzctr.org.au", "ctri.nic.in", "drks.de",
    "jrct.niph.go.jp", "jrct.mhlw.go.jp", "umin.ac.jp", "cris.nih.go.kr", "irct.behdasht.gov.ir",
    "irct.ir", "pactr.samrc.ac.za", "ensaiosclinicos.gov.br", "thaiclinicaltrials.org",
    "trialsearch.who.int",
)
# fmt: on
_INHERITED_KINDS = ("quote", "list_item")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BANNER_HINT = re.compile(
    r"footer|cookie|gdpr|(?:^|\s)consent(?:[-_](?:banner|bar|notice|popup|modal|box))?(?:\s|$)",
    re.I,
)
_BUTTON_HINT = re.compile(r"btn|button", re.I)
_WORD = re.compile(r"\w")
_LINK_SEPARATORS = " |·•/–—-,;:»›"  # left between nav links written as "Home | FAQ"
_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:")


Tag = etree._Element
Node = Tag | str  # an element, or a run of text between elements
Attrs = etree._Attrib  # a tag's attributes
StackItem = Node | tuple[Tag, bool]  # a node to enter, or (tag, is a block) to leave


NOTICE_WORDS = 25  # a <noscript> this short is a notice ("enable JavaScript to ...")


class _Ctx(NamedTuple):
    """What applies to text at one level of the tree."""

    kind: BlockKind  # kind of the block that loose text here becomes
    region: Region
    container: bool  # a bare <a> here may stand alone as a link block (nav bars)
    row: bool  # inside a table row read as one block: nested blocks are inline
    in_content: bool  # inside <article>/<main>, where a <header> belongs to the content
    link: bool  # inside an <a>


def parse(markup: str) -> Tag | None:
    """The document's root element; None when the markup holds no element at all."""
    # As UTF-8 bytes with the encoding named: lxml refuses a str that carries its own
    # <?xml encoding?> declaration, and a <meta charset> must not re-decode decoded text.
    data = markup.encode("utf-8", "surrogatepass")
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    root: Tag | None = etree.fromstring(data, parser)
    if any(_TOO_DEEP in entry.message for entry in parser.error_log):
        # libxml2's tree stops at 2,048 levels and drops what lies deeper, which a hostile
        # page could use to hide its text: build this one from the parser's events instead.
        events = etree.HTMLParser(target=_Builder(), encoding="utf-8", huge_tree=True)
        root = etree.fromstring(data, events)
    return root


_TOO_DEEP = "Excessive depth"
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][\w.-]*")


class _Builder(etree.TreeBuilder):
    """lxml's TreeBuilder, leaving out attribute names it refuses (``@click``, ``:href``)."""

    def start(self, tag: str | bytes, attrib: dict[str | bytes, str | bytes]) -> Any:
        kept = {k: v for k, v in attrib.items() if _ATTRIBUTE_NAME.fullmatch(str(k))}
        return super().start(tag, kept)


def _children(tag: Tag) -> list[Node]:
    """An element's content in document order: its text, then each child and the text after
    it. Comments and processing instructions are left out, the text after them kept."""
    nodes: list[Node] = [tag.text] if tag.text else []
    for child in tag:
        if isinstance(child.tag, str):
            nodes.append(child)
        if child.tail:
            nodes.append(child.tail)
    return nodes


def _strings(nodes: list[Node]) -> list[str]:
    """Every run of text in ``nodes`` and below, in document order."""
    out: list[str] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
        else:
            stack.extend(reversed(_children(node)))
    return out


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _noscript_children(children: list[Node]) -> list[Node]:
    """Some parsers keep ``<noscript>`` as raw text; its markup is the page's no-JS fallback."""
    texts = [c for c in children if isinstance(c, str)]
    if len(texts) < len(children) or not any("<" in c for c in texts):
        return children
    fragment = parse("".join(texts))
    if fragment is None:
        return []
    body = fragment.find("body")
    return _children(body if body is not None else fragment)


def _is_notice(children: list[Node]) -> bool:
    """A <noscript> that only says to turn JavaScript on (a few words), as opposed to the no-JS
    version of the page, which is read like the rest of it."""
    words = sum(len(text.split()) for text in _strings(children))
    return words <= NOTICE_WORDS


def _is_hidden(attrs: Attrs) -> bool:
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _class_and_id(attrs: Attrs) -> str:
    classes = " ".join(str(attrs.get("class") or "").split())
    return f"{classes} {attrs.get('id') or ''}"


def _region(name: str, attrs: Attrs, ctx: _Ctx) -> Region:
    role = str(attrs.get("role") or "").lower()
    if name == "nav" or role == "navigation":
        return "nav"
    if name == "aside" or role == "complementary":
        return "aside"
    if name == "footer" or role == "contentinfo":
        return "footer"
    if name == "header" or role == "banner":
        return ctx.region if ctx.in_content else "header"
    # Cookie banners and footer-ish divs; never on wrappers, whose classes describe the page.
    if (
        attrs
        and name not in ("html", "body", "main", "article")
        and _BANNER_HINT.search(_class_and_id(attrs))
    ):
        return "footer"
    return ctx.region


def _simple_row(tr: Tag) -> bool:
    return not any(el.tag in _ROW_BREAKERS for el in tr.iterdescendants())


def is_registry(href: str) -> bool:
    """Whether a link points to a clinical-trial registry."""
    host = (urlsplit(href).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in _REGISTRY_DOMAINS)


class Walker:
    """One iterative pass over the parsed tree that emits blocks and collects page facts."""

    def __init__(self, base_url: str | None) -> None:
        self.base = base_url
        self.entries: list[Entry] = []
        self.links: list[Link] = []
        self.prices: list[str] = []
        self.title: str | None = None
        self.meta: dict[str, str] = {}
        self.lang: str | None = None
        self.ctx = [_Ctx("text", "main", True, False, False, False)]
        self.link_href: str | None = None
        self.link_parts: list[str] | None = None
        self._reset()

    def _reset(self) -> None:
        self.parts: list[str] = []
        self.has_text = False
        self.n_links = 0
        self.button_link = False
        self.other_text = False  # words outside any <a>

    def _add_text(self, text: str) -> None:
        self.parts.append(text)
        if self.link_parts is not None:
            self.link_parts.append(text)
        if not self.has_text and text and not text.isspace():
            self.has_text = True
        if not self.other_text and not self.ctx[-1].link and _WORD.search(text):
            self.other_text = True

    def _flush(self, kind: BlockKind | None = None) -> None:
        if self.parts:
            text = clean_text("".join(self.parts))
            ctx = self.ctx[-1]
            kind = kind or ctx.kind
            if self.n_links == 1 and not self.other_text and kind in ("text", "list_item"):
                kind = "button" if self.button_link else "link"
                text = text.strip(_LINK_SEPARATORS)
            if _WORD.search(text):  # runs of separators or icons are not text
                self.entries.append((text, kind, ctx.region))
        self._reset()

    def _add_link(self, href: str | None, text: str) -> None:
        href = (href or "").strip()
        if not href or href.lower().startswith(_SKIPPED_SCHEMES):
            return
        self.links.append(Link(urljoin(self.base, href) if self.base else href, text))

    def _head_tag(self, tag: Tag, attrs: Attrs) -> None:
        name = tag.tag
        if name == "title":
            if self.title is None:
                self.title = clean_text("".join(_strings(_children(tag)))) or None
        elif name == "meta":
            key = str(attrs.get("name") or attrs.get("property") or "").lower()
            content = clean_text(str(attrs.get("content") or ""))
            if content and key in ("description", "og:description", "og:title"):
                self.meta.setdefault(key, content)
        elif href := str(attrs.get("href") or "").strip():  # <base href>
            new = urljoin(self.base, href) if self.base else href
            if urlsplit(new).scheme in ("http", "https"):
                self.base = new

    def _dropped(self, tag: Tag, attrs: Attrs) -> None:
        if tag.tag == "script":
            if "ld+json" in str(attrs.get("type") or "").lower():
                self.prices.extend(json_ld_prices("".join(_strings(_children(tag)))))
        elif tag.tag not in _DROPPED:  # hidden element: its links are still links
            links = [tag] if tag.tag == "a" else tag.iterdescendants("a")
            for a in links:
                if "href" in a.attrib:
                    text = "".join(_strings(_children(a)))
                    self._add_link(_string(a.get("href")), clean_text(text))

    def run(self, root: Tag | None) -> None:
        stack: list[StackItem] = [root] if root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, tuple):
                self._leave(*node)
            elif isinstance(node, str):
                self._add_text(node)
            else:
                self._enter(node, stack)
        self._flush()

    def _enter(self, tag: Tag, stack: list[StackItem]) -> None:
        name, attrs = tag.tag, tag.attrib
        if name in ("title", "meta", "base"):
            self._head_tag(tag, attrs)
            return
        if name in _DROPPED or (attrs and _is_hidden(attrs)):
            self._dropped(tag, attrs)
            return
        ctx = self.ctx[-1]
        if name == "br":
            self._add_text(" ")
            return
        if name == "hr":
            self._flush()
            return
        if name == "input":
            value = clean_text(str(attrs.get("value") or ""))
            if value and str(attrs.get("type") or "").lower() in ("submit", "button"):
                if ctx.row:
                    self._add_text(f" {value} ")
                else:
                    self._flush()
                    self._add_text(value)
                    self._flush("button")
            return
        if name == "html":
            self.lang = str(attrs.get("lang") or attrs.get("xml:lang") or "").strip() or None
        children = _children(tag)
        if name == "noscript":
            children = _noscript_children(children)
        kind = _BLOCK_KIND.get(name)
        if ctx.row:
            if kind or name in _CONTAINERS:
                self.parts.append(" | " if name in ("td", "th") and self.has_text else " ")
            new, block = ctx, False
        else:
            region = (
                _region(name, attrs, ctx)
                if attrs or name in ("nav", "aside", "footer", "header", "noscript")
                else ctx.region
            )
            if name == "noscript" and _is_notice(children):
                region = "noscript"
            if kind or name in _CONTAINERS or region != ctx.region:
                self._flush()
                row = name == "tr" and _simple_row(tag)
                in_content = ctx.in_content or name in ("article", "main")
                container = kind is None and not row
                if ctx.kind in _INHERITED_KINDS and kind in (None, "paragraph", "text"):
                    kind = ctx.kind  # <blockquote><p> is still a quote, <li><p> a list item
                new = _Ctx(
                    "table_cell" if row else kind or "text",
                    region,
                    container,
                    row,
                    in_content,
                    ctx.link,
                )
                block = True
            elif name == "a":
                if ctx.container and self.n_links and not self.other_text:
                    self._flush()  # the previous nav link was a block of its own
                new, block = ctx, False
            else:  # inline element: nothing changes for its text
                stack.extend(reversed(children))
                return
        if name == "a":
            self.n_links += 1
            self.button_link = bool(
                attrs.get("role") == "button" or _BUTTON_HINT.search(_class_and_id(attrs))
            )
            self.link_href, self.link_parts = _string(attrs.get("href")), []
            new = new._replace(link=True)
        self.ctx.append(new)
        stack.append((tag, block))
        stack.extend(reversed(children))

    def _leave(self, tag: Tag, block: bool) -> None:
        if block:
            self._flush()
        self.ctx.pop()
        if tag.tag == "a" and self.link_parts is not None:
            self._add_link(self.link_href, clean_text("".join(self.link_parts)))
            self.link_href, self.link_parts = None, None
