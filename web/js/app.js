// Podium's page: the lobby (rooms), a room (join, floor, transcript), the A2A directory.

import { api, ApiError, serverUp } from "./api.js";
import { RoomConnection } from "./rtc.js";
import { Transcript } from "./transcript.js";

const $ = (id) => document.getElementById(id);
const agents = new Map(); // name → {display, color, card}
const PERSON_COLORS = ["#5b6b7a", "#7a5b6b", "#6b7a5b", "#7a6b5b"];
const me = localStorage.getItem("podium-name") || `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
localStorage.setItem("podium-name", me);

const state = {
  roomId: new URLSearchParams(location.search).get("room"),
  room: null,
  events: null,
  connection: null, // RoomConnection
  role: null,
  muted: false,
  speaking: null, // agent speaking now
  people: new Set(), // people speaking now
  reconnecting: false,
};

// ── status and errors ──────────────────────────────────────────────────────
function setConnection(kind, text) {
  const el = $("connection");
  el.dataset.state = kind;
  el.textContent = text;
}

function showError(message) {
  const el = $("error");
  el.textContent = message;
  el.hidden = !message;
}

function colorOf(who) {
  if (agents.has(who)) return agents.get(who).color;
  let hash = 0;
  for (const c of who) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return PERSON_COLORS[hash % PERSON_COLORS.length];
}

function nameOf(who) {
  if (agents.has(who)) return agents.get(who).display;
  return who === me ? `${who} (you)` : who;
}

// ── directory ──────────────────────────────────────────────────────────────
async function loadAgents() {
  const cards = await api("/agents");
  const box = $("agents");
  box.replaceChildren();
  const fieldset = $("debaters");
  fieldset.querySelectorAll("label").forEach((l) => l.remove());
  for (const card of cards) {
    const info = card.podium;
    agents.set(info.name, { display: card.name, color: info.color || "#555", card });
    const article = document.createElement("article");
    article.className = "card agent";
    article.style.setProperty("--color", info.color || "#555");
    const skills = (card.skills || []).map((s) => `<li><strong>${esc(s.name)}</strong>: ${esc(s.description)}</li>`).join("");
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

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ── lobby ──────────────────────────────────────────────────────────────────
async function loadRooms() {
  const list = $("rooms");
  const rooms = await api("/rooms");
  list.replaceChildren();
  if (!rooms.length) {
    list.innerHTML = `<li class="muted">No rooms yet. Start one above.</li>`;
    return;
  }
  for (const room of rooms) {
    const item = document.createElement("li");
    const people = room.participants.length;
    item.innerHTML = `<span><strong>${esc(room.topic)}</strong>
      <span class="muted"> · ${room.agents.map((a) => esc(agents.get(a)?.display || a)).join(" vs ")}
      · ${people} ${people === 1 ? "person" : "people"}</span></span>
      <a href="/?room=${encodeURIComponent(room.id)}">Open</a>`;
    list.append(item);
  }
}

async function createRoom(event) {
  event.preventDefault();
  showError("");
  const topic = $("topic").value.trim();
  const chosen = [...document.querySelectorAll('input[name="agents"]:checked')].map((i) => i.value);
  if (!chosen.length) return showError("Pick at least one debater.");
  try {
    const room = await api("/rooms", {
      method: "POST",
      body: { topic, agents: chosen, debate: $("start-debate").checked },
    });
    location.search = `?room=${encodeURIComponent(room.id)}`;
  } catch (error) {
    showError(error.message);
  }
}

// ── room ───────────────────────────────────────────────────────────────────
let transcript;

async function openRoom() {
  $("lobby").hidden = true;
  $("room").hidden = false;
  transcript = new Transcript($("transcript"), colorOf, nameOf);
  try {
    state.room = await api(`/rooms/${state.roomId}`);
  } catch (error) {
    const gone = error instanceof ApiError && error.status === 404;
    showError(gone ? "This room does not exist (any more). Pick another from the list." : error.message);
    $("room").hidden = true;
    $("lobby").hidden = false;
    await loadRooms().catch(() => {});
    return;
  }
  renderRoom(state.room);
  $("room-share").textContent = `Share this room: ${location.origin}/?room=${state.roomId}`;
  subscribe();
}

function renderRoom(room) {
  document.title = `${room.topic} — Podium`;
  $("room-title").textContent = room.topic;
  $("debate").textContent = room.debate_task_id ? "Restart debate" : "Start debate";
  const list = $("speakers");
  list.replaceChildren();
  for (const name of room.agents) {
    const item = document.createElement("li");
    item.dataset.agent = name;
    item.style.setProperty("--color", colorOf(name));
    item.innerHTML = `<span class="name">${esc(nameOf(name))}</span><span class="state">listening</span>
      <meter min="0" max="1" value="0" aria-label="${esc(nameOf(name))} level"></meter>`;
    list.append(item);
  }
  state.speaking = room.speaking;
  renderFloor();
}

function renderFloor() {
  const people = [...state.people];
  let text = "Nobody is speaking";
  if (people.length && state.speaking) text = `${nameOf(people[0])} is cutting in on ${nameOf(state.speaking)}`;
  else if (people.length) text = `${nameOf(people[0])} has the floor`;
  else if (state.speaking) text = `${nameOf(state.speaking)} has the floor`;
  $("floor").textContent = text;
  for (const item of $("speakers").children) {
    const speaking = item.dataset.agent === state.speaking;
    item.dataset.speaking = String(speaking);
    if (item.dataset.bidding !== "true") {
      item.querySelector(".state").textContent = speaking ? "speaking" : "listening";
    }
  }
}

function markBid(event) {
  const item = [...$("speakers").children].find((li) => li.dataset.agent === event.agent);
  if (!item) return;
  item.dataset.bidding = "true";
  item.querySelector(".state").textContent = event.granted ? "cutting in" : "wants the floor";
  clearTimeout(item.bidTimer);
  item.bidTimer = setTimeout(() => {
    item.dataset.bidding = "false";
    renderFloor();
  }, 1500);
}

function handle(event) {
  switch (event.type) {
    case "room":
      state.room = event;
      renderRoom(event);
      break;
    case "participant_joined":
      if (event.name !== me) transcript.note(`${event.name} joined as ${event.role}`);
      break;
    case "participant_left":
      if (event.name !== me) transcript.note(`${event.name} left`);
      break;
    case "speech_started":
      state.people.add(event.who);
      transcript.person(event.who, "", false);
      break;
    case "speech_stopped":
      state.people.delete(event.who);
      break;
    case "transcript":
      if (!event.ignored) transcript.person(event.who, event.text, event.final);
      break;
    case "turn_started":
      state.speaking = event.agent;
      transcript.turnStarted(event.agent, event.task_id);
      break;
    case "words":
      state.speaking = event.agent;
      transcript.words(event.agent, event.task_id, event.text);
      break;
    case "turn_ended":
      if (state.speaking === event.agent) state.speaking = null;
      transcript.turnEnded(event.task_id, event.state);
      break;
    case "interrupted":
      transcript.note(`${nameOf(event.by)} cut in on ${nameOf(event.agent)}`);
      break;
    case "bid":
      markBid(event);
      break;
    case "debate_started":
      $("debate").textContent = "Restart debate";
      transcript.note("The debate has started.");
      break;
    case "debate_finished":
      transcript.note("The debate is over.");
      break;
    case "error":
      transcript.note(`Problem in the room (${event.stage}): ${event.message}`);
      break;
    case "room_closed":
      showError("This room was closed.");
      break;
  }
  renderFloor();
}

function subscribe() {
  state.events?.close();
  const source = new EventSource(`/rooms/${state.roomId}/events`);
  state.events = source;
  source.onopen = () => {
    if (!state.connection) setConnection("connected", "Connected — not joined");
  };
  source.onmessage = (message) => handle(JSON.parse(message.data));
  for (const type of ["room", "participant_joined", "participant_left", "speech_started", "speech_stopped",
    "transcript", "turn_started", "words", "turn_ended", "interrupted", "ducked", "resumed", "bid",
    "debate_started", "debate_finished", "error", "room_closed"]) {
    source.addEventListener(type, (message) => handle(JSON.parse(message.data)));
  }
  source.onerror = () => {
    source.close();
    reconnect();
  };
}

async function join(role) {
  showError("");
  await leave({ quiet: true });
  setConnection("connecting", "Connecting…");
  const connection = new RoomConnection(state.roomId, {
    role,
    name: me,
    audioElement: $("room-audio"),
    onState: (pcState) => {
      if (pcState === "connected") setConnection("connected", role === "speaker" ? "Connected — speaking" : "Connected — listening");
      if (pcState === "failed") reconnect();
    },
  });
  try {
    await connection.open();
  } catch (error) {
    connection.release();
    await connection.close();
    setConnection("idle", "Not joined");
    const full = error instanceof ApiError && error.status === 409;
    showError(full ? `This room is full: ${error.message}` : error.message);
    return;
  }
  state.connection = connection;
  state.role = role;
  connection.setMuted(state.muted);
  $("leave").hidden = false;
  $("mute").hidden = role !== "speaker";
  $("join-speaker").disabled = role === "speaker";
  $("join-listener").disabled = role === "listener";
}

async function leave({ quiet = false } = {}) {
  const connection = state.connection;
  state.connection = null;
  state.role = quiet ? state.role : null;
  if (connection) {
    await connection.close();
    connection.release();
  }
  if (!quiet) {
    setConnection("connected", "Connected — not joined");
    $("leave").hidden = true;
    $("mute").hidden = true;
    $("join-speaker").disabled = false;
    $("join-listener").disabled = false;
  }
}

async function reconnect() {
  if (state.reconnecting) return;
  state.reconnecting = true;
  const role = state.role;
  setConnection("lost", "Connection lost — reconnecting…");
  if (state.connection) {
    await state.connection.close({ leave: false });
  }
  let delay = 500;
  while (!(await serverUp())) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5000);
    setConnection("reconnecting", "Server unreachable — retrying…");
  }
  try {
    state.room = await api(`/rooms/${state.roomId}`);
    renderRoom(state.room);
  } catch (error) {
    state.reconnecting = false;
    setConnection("lost", "Disconnected");
    showError(error.status === 404 ? "This room no longer exists." : error.message);
    return;
  }
  state.reconnecting = false;
  transcript.note("Reconnected.");
  subscribe();
  if (role) {
    const connection = state.connection;
    state.connection = null;
    connection?.release();
    await join(role);
  } else {
    setConnection("connected", "Connected — not joined");
  }
}

async function say(event) {
  event.preventDefault();
  const input = $("say-text");
  const text = input.value.trim();
  if (!text) return;
  try {
    await api(`/rooms/${state.roomId}/say`, { method: "POST", body: { text, name: me } });
    input.value = "";
  } catch (error) {
    showError(error.message);
  }
}

async function startDebate() {
  try {
    await api(`/rooms/${state.roomId}/debate`, { method: "POST", body: {} });
  } catch (error) {
    showError(error.message);
  }
}

function toggleMute() {
  state.muted = !state.muted;
  state.connection?.setMuted(state.muted);
  $("mute").setAttribute("aria-pressed", String(state.muted));
  $("mute").textContent = state.muted ? "Unmute" : "Mute";
}

function meters() {
  const connection = state.connection;
  $("mic-level").value = connection?.micMeter && !state.muted ? connection.micMeter.level() : 0;
  const level = connection?.roomMeter ? connection.roomMeter.level() : 0;
  for (const item of $("speakers").children) {
    item.querySelector("meter").value = item.dataset.agent === state.speaking ? level : 0;
  }
  requestAnimationFrame(meters);
}

// For tests and the curious: window.podium.stats() → inbound audio statistics.
window.podium = {
  stats: () => state.connection?.stats() ?? null,
  state: () => ({ role: state.role, room: state.roomId, speaking: state.speaking }),
};

async function main() {
  $("create").addEventListener("submit", createRoom);
  $("join-speaker").addEventListener("click", () => join("speaker"));
  $("join-listener").addEventListener("click", () => join("listener"));
  $("leave").addEventListener("click", () => leave());
  $("mute").addEventListener("click", toggleMute);
  $("debate").addEventListener("click", startDebate);
  $("say").addEventListener("submit", say);
  window.addEventListener("pagehide", () => state.connection?.close());
  try {
    await loadAgents();
  } catch (error) {
    showError(error.message);
    setConnection("lost", "Server unreachable");
    return;
  }
  setConnection("connected", "Connected");
  if (state.roomId) await openRoom();
  else await loadRooms().catch((error) => showError(error.message));
  requestAnimationFrame(meters);
}

main();
