// Injected into the page only when the user asks (the toolbar button, or the opt-in setting):
// reads the page as rendered, and marks a quoted sentence on request.
(() => {
  if (globalThis.__redflags) return; // injected once per page
  const api = globalThis.browser ?? globalThis.chrome;
  const MARK_CLASS = "redflags-mark";

  function collect() {
    clear(); // our own marks are not the page's: the same page must hash the same
    return {
      url: location.href,
      title: document.title,
      html: document.documentElement.outerHTML,
      text: document.body ? document.body.innerText : "",
    };
  }

  // The engine quotes sentences of its extracted text; the DOM splits them across elements and
  // whitespace. Text nodes are joined with their offsets, whitespace folded to single spaces,
  // and the quote is looked for in that, case-blind.
  function textNodes() {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        const parent = node.parentElement;
        if (!parent || ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(parent.tagName)) {
          return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
    return nodes;
  }

  function fold(text) {
    return text.replace(/\s+/g, " ").trim().toLowerCase();
  }

  function locate(quote) {
    const nodes = textNodes();
    let joined = "";
    const map = []; // joined index -> [node, offset]
    let lastSpace = true;
    for (const node of nodes) {
      const value = node.nodeValue;
      for (let i = 0; i < value.length; i += 1) {
        const space = /\s/.test(value[i]);
        if (space && lastSpace) continue;
        joined += space ? " " : value[i].toLowerCase();
        map.push([node, i]);
        lastSpace = space;
      }
      if (!lastSpace) {
        joined += " ";
        map.push([node, value.length]);
        lastSpace = true;
      }
    }
    const wanted = fold(quote);
    let at = joined.indexOf(wanted);
    let length = wanted.length;
    if (at < 0 && wanted.length > 80) {
      // A long quote may differ at its ends (a cut sentence): look for its middle.
      const middle = wanted.slice(20, 80);
      at = joined.indexOf(middle);
      length = middle.length;
    }
    if (at < 0) return null;
    const [startNode, startOffset] = map[at];
    const [endNode, endOffset] = map[at + length - 1];
    const range = document.createRange();
    range.setStart(startNode, startOffset);
    range.setEnd(endNode, Math.min(endOffset + 1, endNode.nodeValue.length));
    return range;
  }

  function clear() {
    for (const mark of document.querySelectorAll(`mark.${MARK_CLASS}`)) {
      mark.replaceWith(...mark.childNodes);
    }
  }

  function highlight(quote) {
    clear();
    const range = locate(quote);
    if (!range) return false;
    // Wrap each text node of the range on its own: a range across elements cannot be wrapped.
    const marks = [];
    for (const node of textNodes()) {
      if (!range.intersectsNode(node)) continue;
      const start = node === range.startContainer ? range.startOffset : 0;
      const end = node === range.endContainer ? range.endOffset : node.nodeValue.length;
      if (end <= start) continue;
      const part = node.splitText(start);
      part.splitText(end - start);
      const mark = document.createElement("mark");
      mark.className = MARK_CLASS;
      mark.style.background = "#ffe08a";
      mark.style.outline = "2px solid #b01c23";
      part.replaceWith(mark);
      mark.append(part);
      marks.push(mark);
    }
    if (marks.length) marks[0].scrollIntoView({ block: "center", behavior: "smooth" });
    return marks.length > 0;
  }

  api.runtime.onMessage.addListener((message, _sender, reply) => {
    if (message?.type === "collect") reply(collect());
    else if (message?.type === "highlight") reply({ found: highlight(message.quote) });
    else if (message?.type === "clear") reply(clear());
    return false;
  });
  globalThis.__redflags = { collect, highlight, clear };
})();
