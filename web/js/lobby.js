// The lobby: the open rooms, and a form to start one.

import { api } from "./api.js";
import { agents, esc } from "./directory.js";

export async function loadRooms(list) {
  const rooms = await api("/rooms");
  list.replaceChildren();
  if (!rooms.length) {
    list.innerHTML = `<li class="muted">No rooms yet. Start one above.</li>`;
    return;
  }
  for (const room of rooms) {
    const item = document.createElement("li");
    const people = room.participants.length;
    const debaters = room.agents.map((a) => esc(agents.get(a)?.display || a)).join(" vs ");
    item.innerHTML = `<span><strong>${esc(room.topic)}</strong>
      <span class="muted"> · ${debaters} · ${people} ${people === 1 ? "person" : "people"}</span></span>
      <a href="/?room=${encodeURIComponent(room.id)}">Open</a>`;
    list.append(item);
  }
}

// Creates a room from the form; returns its id (the caller opens it).
export async function createRoom({ topic, chosen, debate, record }) {
  if (!topic) throw new Error("Give the debate a topic.");
  if (!chosen.length) throw new Error("Pick at least one debater.");
  const room = await api("/rooms", { method: "POST", body: { topic, agents: chosen, debate, record } });
  return room.id;
}
