// The popup: asks the background to check the tab the user clicked on, then shows the verdict,
// the top warning signs with their quotes ("show me" marks each on the page), what is missing,
// and a button that stores the report on the service and opens its page.
import { VERDICTS } from "./lib.js";

const api = globalThis.browser ?? globalThis.chrome;
const TOP_SIGNS = 5;
const $ = (id) => document.getElementById(id);

async function targetTab() {
  const given = new URLSearchParams(location.search).get("tab"); // the extension's tests
  if (given) return Number(given);
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab?.id;
}

function showProblem(message) {
  $("status").hidden = true;
  $("result").hidden = true;
  $("problem").hidden = false;
  $("problem").textContent = message;
}

function render(outcome, tabId) {
  const { report } = outcome.answer;
  const view = VERDICTS[report.verdict] ?? { letter: "?", words: report.verdict };
  $("status").hidden = true;
  $("result").hidden = false;
  $("verdict").className = `verdict verdict--${report.verdict}`;
  $("verdict").querySelector(".letter").textContent = view.letter;
  $("verdict").querySelector(".words").textContent = view.words;
  $("score").textContent =
    report.score === null ? "Not scored." : `Warning-sign score: ${report.score} out of 100.`;
  $("summary").textContent = report.summary;
  $("server").textContent = outcome.server;

  const signs = report.findings.filter((f) => f.polarity === "red_flag").slice(0, TOP_SIGNS);
  $("no-signs").hidden = signs.length > 0;
  for (const finding of signs) {
    const item = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = finding.title;
    item.append(title);
    const evidence = finding.evidence.find((e) => e.quote);
    if (evidence) {
      const quote = document.createElement("blockquote");
      quote.textContent = evidence.quote;
      const show = document.createElement("button");
      show.type = "button";
      show.className = "show";
      show.textContent = "Show me";
      show.addEventListener("click", async () => {
        const answer = await api.runtime.sendMessage({ type: "highlight", tabId, quote: evidence.quote });
        show.textContent = answer?.found ? "Shown on the page" : "Not found on the page";
      });
      item.append(quote, show);
    }
    $("signs").append(item);
  }
  const missing = report.findings.filter((f) => f.polarity === "absence");
  $("missing-section").hidden = missing.length === 0;
  for (const finding of missing) {
    const item = document.createElement("li");
    item.textContent = finding.title;
    $("missing").append(item);
  }
  $("save").addEventListener("click", async () => {
    $("save").disabled = true;
    const saved = await api.runtime.sendMessage({ type: "check", tabId, store: true });
    if (!saved.ok) return showProblem(saved.problem);
    const page = saved.answer.links?.page;
    if (page) await api.tabs.create({ url: `${saved.server}${page}` });
  });
}

async function main() {
  const tabId = await targetTab();
  if (tabId === undefined) return showProblem("There is no page to check in this window.");
  const outcome = await api.runtime.sendMessage({ type: "check", tabId });
  if (!outcome?.ok) return showProblem(outcome?.problem ?? "The check did not answer.");
  render(outcome, tabId);
}

main().catch((error) => showProblem(`Something went wrong: ${error.message}`));
