// The debaters (from their A2A agent cards): names, colours, and the directory section.

import { api } from "./api.js";

export const agents = new Map(); // name → {display, color, card}
const PERSON_COLORS = ["#5b6b7a", "#7a5b6b", "#6b7a5b", "#7a6b5b"];

export const me =
  localStorage.getItem("podium-name") || `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
localStorage.setItem("podium-name", me);

export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function colorOf(who) {
  if (agents.has(who)) return agents.get(who).color;
  let hash = 0;
  for (const c of who) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return PERSON_COLORS[hash % PERSON_COLORS.length];
}

export function nameOf(who) {
  if (agents.has(who)) return agents.get(who).display;
  return who === me ? `${who} (you)` : who;
}

// Fills the directory section and the lobby's debater checkboxes.
export async function loadAgents(box, fieldset) {
  const cards = await api("/agents");
  box.replaceChildren();
  fieldset.querySelectorAll("label").forEach((l) => l.remove());
  for (const card of cards) {
    const info = card.podium;
    agents.set(info.name, { display: card.name, color: info.color || "#555", card });
    const article = document.createElement("article");
    article.className = "card agent";
    article.style.setProperty("--color", info.color || "#555");
    const skills = (card.skills || [])
      .map((s) => `<li><strong>${esc(s.name)}</strong>: ${esc(s.description)}</li>`)
      .join("");
    article.innerHTML = `
      <h3>${esc(card.name)}</h3>
      <p>${esc(card.description)}</p>
      <ul>${skills}</ul>
      <p><a href="${esc(info.card_url)}">Agent card</a> · JSON-RPC: <span class="url">${esc(info.jsonrpc_url)}</span></p>
      <code>curl -s ${esc(info.jsonrpc_url)} -H 'Content-Type: application/json' -H 'A2A-Version: 1.0' \\
  -d '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"Hello"}]}}}'</code>`;
    box.append(article);
    const label = document.createElement("label");
    label.className = "inline";
    label.innerHTML = `<input type="checkbox" name="agents" value="${esc(info.name)}" checked> ${esc(card.name)}`;
    fieldset.append(label);
  }
}
