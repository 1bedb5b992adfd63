// What the background, the popup and the options page share: settings, the call to the
// service, the per-session cache and the words for each verdict.

export const DEFAULTS = Object.freeze({ server: "http://127.0.0.1:8000", apiKey: "", auto: false });

// A letter and a colour for the badge (never the colour alone), and words for people.
export const VERDICTS = Object.freeze({
  high_risk: { letter: "H", colour: "#b01c23", words: "High risk" },
  caution: { letter: "C", colour: "#8a5a00", words: "Caution" },
  low_risk: { letter: "L", colour: "#1d6b34", words: "Low risk" },
  not_applicable: { letter: "–", colour: "#4a5260", words: "Not a clinic selling treatment" },
  unreadable: { letter: "?", colour: "#4a5260", words: "Could not read this page" },
});

export const MAX_BYTES = 2_000_000; // what the service's /api/v1/analyze accepts

const api = globalThis.browser ?? globalThis.chrome;

export async function loadSettings() {
  const stored = await api.storage.sync.get(DEFAULTS);
  return { ...DEFAULTS, ...stored, server: (stored.server || DEFAULTS.server).replace(/\/+$/, "") };
}

export async function saveSettings(settings) {
  await api.storage.sync.set(settings);
}

/** SHA-256 of a string, as hex: the cache key of a page's content. */
export async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A problem to show in the popup, in plain words. */
export class Problem extends Error {}

/**
 * Send a page to the service. ``page`` is {url, html, text}; the HTML (the DOM as rendered)
 * is sent when it fits, else the visible text. Throws Problem with words for people.
 */
export async function analyze(page, settings, { store = false } = {}) {
  const htmlBytes = new TextEncoder().encode(page.html).length;
  const body = { url: page.url, store };
  if (htmlBytes + 1024 <= MAX_BYTES) body.html = page.html;
  else if (new TextEncoder().encode(page.text).length + 1024 <= MAX_BYTES) body.text = page.text;
  else throw new Problem("This page is too large to check (more than 2 MB of text).");
  const headers = { "Content-Type": "application/json" };
  if (settings.apiKey) headers["X-API-Key"] = settings.apiKey;
  let response;
  try {
    response = await fetch(`${settings.server}/api/v1/analyze`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new Problem(
      `The redflags service at ${settings.server} did not answer. Is it running? ` +
        "You can change its address in the extension's options.",
    );
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const message = answer?.error?.message;
    if (response.status === 413) throw new Problem("This page is too large for the service to check.");
    if (response.status === 429) throw new Problem(message || "Too many checks in a short time; please wait a minute.");
    throw new Problem(message || `The service refused the page (HTTP ${response.status}).`);
  }
  if (!answer?.report) throw new Problem("The service answered with something that is not a report.");
  return answer;
}

/** The session cache: one report per address and content hash, gone when the browser closes. */
export async function cached(key) {
  const found = await api.storage.session.get(key);
  return found[key] ?? null;
}

export async function remember(key, value) {
  await api.storage.session.set({ [key]: value });
}
