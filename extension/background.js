// The service worker: reads a tab when asked, sends it to the service, keeps the answer for the
// session and shows the verdict on the toolbar badge.
import { analyze, cached, loadSettings, Problem, remember, sha256, VERDICTS } from "./lib.js";

const api = globalThis.browser ?? globalThis.chrome;

// Pages that look like health or clinic pages, for the opt-in automatic check.
const HEALTH_WORDS = /stem.?cell|clinic|clinica|therap|arthritis|regenerat|exosome|treatment|tratamiento|c[eé]lulas madre/i;

async function readTab(tabId) {
  await api.scripting.executeScript({ target: { tabId }, files: ["content.js"] });
  const page = await api.tabs.sendMessage(tabId, { type: "collect" });
  if (!page?.html) throw new Problem("This page could not be read (the browser does not allow it here).");
  return page;
}

async function showBadge(tabId, verdict) {
  const view = VERDICTS[verdict];
  if (!view) return;
  await api.action.setBadgeText({ tabId, text: view.letter });
  await api.action.setBadgeBackgroundColor({ tabId, color: view.colour });
  await api.action.setTitle({ tabId, title: `redflags: ${view.words}` });
}

/** Check one tab: {ok, answer, cached} or {ok: false, problem}. */
async function checkTab(tabId, { store = false } = {}) {
  try {
    const settings = await loadSettings();
    const page = await readTab(tabId);
    // The visible text decides: markup changes by itself (styles set by scripts, autofill).
    const key = `report:${page.url}:${await sha256(page.text)}`;
    let answer = store ? null : await cached(key);
    const fromCache = answer !== null;
    if (!answer) {
      answer = await analyze(page, settings, { store });
      await remember(key, answer);
    }
    await showBadge(tabId, answer.report.verdict);
    return { ok: true, answer, cached: fromCache, server: settings.server, url: page.url };
  } catch (error) {
    const problem = error instanceof Problem ? error.message : `Something went wrong: ${error.message}`;
    await api.action.setBadgeText({ tabId, text: "!" });
    return { ok: false, problem };
  }
}

async function highlight(tabId, quote) {
  await api.scripting.executeScript({ target: { tabId }, files: ["content.js"] });
  return api.tabs.sendMessage(tabId, { type: "highlight", quote });
}

api.runtime.onMessage.addListener((message, _sender, reply) => {
  if (message?.type === "check") {
    checkTab(message.tabId, { store: Boolean(message.store) }).then(reply);
    return true; // answers asynchronously
  }
  if (message?.type === "highlight") {
    highlight(message.tabId, message.quote).then(reply, () => reply({ found: false }));
    return true;
  }
  return false;
});

// Opt-in only: with "check health pages automatically" on (and the site permission it asks
// for granted), a page that looks like a health or clinic page is checked when it loads.
api.tabs.onUpdated.addListener(async (tabId, change, tab) => {
  if (change.status !== "complete" || !tab.url?.startsWith("http")) return;
  const settings = await loadSettings();
  if (!settings.auto) return;
  if (!HEALTH_WORDS.test(`${tab.url} ${tab.title ?? ""}`)) return;
  const origin = `${new URL(tab.url).origin}/*`;
  if (!(await api.permissions.contains({ origins: [origin] }))) return;
  await checkTab(tabId);
});
