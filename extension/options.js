// Options: the service's address (default http://127.0.0.1:8000), an optional API key, and the
// opt-in automatic check, which needs the user's leave to read the sites they visit.
import { loadSettings, saveSettings } from "./lib.js";

const api = globalThis.browser ?? globalThis.chrome;
const form = document.getElementById("form");

async function main() {
  const settings = await loadSettings();
  form.server.value = settings.server;
  form.apiKey.value = settings.apiKey;
  form.auto.checked = settings.auto;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let auto = form.auto.checked;
    if (auto) {
      auto = await api.permissions.request({ origins: ["http://*/*", "https://*/*"] });
    }
    await saveSettings({ server: form.server.value.trim(), apiKey: form.apiKey.value.trim(), auto });
    form.auto.checked = auto;
    document.getElementById("saved").textContent = auto
      ? "Saved. Pages that look like health or clinic pages will be checked when they load."
      : "Saved.";
  });
}

main();
