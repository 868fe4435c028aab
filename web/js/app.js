// Podium's page: the lobby, a room (session, floor, transcript) and the A2A directory.

import { api, ApiError } from "./api.js";
import { agents, colorOf, loadAgents, me, nameOf } from "./directory.js";
import { FloorPanel } from "./floor.js";
import { createRoom, loadRooms } from "./lobby.js";
import { loadRecordings, openRecording } from "./replay.js";
import { RoomSession } from "./session.js";
import { Transcript } from "./transcript.js";

const $ = (id) => document.getElementById(id);
let session = null;

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

const ui = {
  setConnection,
  showError,
  audioElement: null,
  renderRoom(room) {
    // Agents invited into this room by URL: their names and colours, as the debaters'.
    for (const [name, guest] of Object.entries(room.invited || {})) {
      agents.set(name, { display: guest.display_name, color: guest.color, card: guest.card_url });
    }
    document.title = `${room.topic} — Podium`;
    $("room-title").textContent = room.topic;
    $("debate").textContent = room.debate_task_id ? "Restart debate" : "Start debate";
  },
  // The room is recorded (everyone sees it, and a person sees it before they speak) or not.
  recording(on) {
    $("recording-badge").hidden = !on;
    $("record-toggle").textContent = on ? "Stop recording" : "Record";
    $("record-toggle").dataset.on = on ? "1" : "";
  },
  debateStarted() {
    $("debate").textContent = "Restart debate";
  },
  joined(role) {
    $("leave").hidden = !role;
    $("mute").hidden = role !== "speaker";
    $("join-speaker").disabled = role === "speaker";
    $("join-listener").disabled = role === "listener";
  },
};

async function openRoom(roomId) {
  $("lobby").hidden = true;
  $("room").hidden = false;
  try {
    await api(`/rooms/${roomId}`);
  } catch (error) {
    const gone = error instanceof ApiError && error.status === 404;
    showError(gone ? "This room does not exist (any more). Pick another from the list." : error.message);
    $("room").hidden = true;
    $("lobby").hidden = false;
    await loadRooms($("rooms")).catch(() => {});
    return;
  }
  ui.audioElement = $("room-audio");
  const transcript = new Transcript($("transcript"), colorOf, nameOf);
  const floor = new FloorPanel($("floor"), $("speakers"));
  session = new RoomSession(roomId, { transcript, floor, ui });
  // The room's controls act on its session: enabled once it exists (a click before would be lost).
  for (const id of ["join-speaker", "join-listener", "join-broadcast", "debate", "record-toggle"]) {
    $(id).disabled = false;
  }
  await checkEventTypes(session);
  $("room-share").textContent = `Share this room: ${await shareUrl(roomId)}`;
  session.subscribe();
  requestAnimationFrame(meters);
}

// A link that lets others listen: signed by the server when it has authentication (only the
// room's owner can make one); otherwise, or for a guest, the address this page was opened at.
async function shareUrl(roomId) {
  try {
    const link = await api(`/rooms/${roomId}/links`, { method: "POST", body: { grant: "listen" } });
    return new URL(link.url, location.origin).href;
  } catch {
    return location.href;
  }
}

// The server's list of room event types is the page's contract: say so if they drift apart.
async function checkEventTypes(roomSession) {
  const types = await api("/rooms/event-types").catch(() => null);
  if (!types) return;
  const handled = Object.keys(roomSession.handlers);
  const missing = types.filter((type) => !handled.includes(type));
  const stale = handled.filter((type) => !types.includes(type));
  if (missing.length || stale.length) console.warn("room event types differ", { missing, stale });
}

async function onCreate(event) {
  event.preventDefault();
  showError("");
  try {
    const id = await createRoom({
      topic: $("topic").value.trim(),
      chosen: [...document.querySelectorAll('input[name="agents"]:checked')].map((i) => i.value),
      debate: $("start-debate").checked,
      record: $("record").checked,
    });
    location.search = `?room=${encodeURIComponent(id)}`;
  } catch (error) {
    showError(error.message);
  }
}

async function onSay(event) {
  event.preventDefault();
  const input = $("say-text");
  const text = input.value.trim();
  if (!text || !session) return;
  try {
    await api(`/rooms/${session.roomId}/say`, { method: "POST", body: { text, name: me } });
    input.value = "";
  } catch (error) {
    showError(error.message);
  }
}

async function onDebate() {
  try {
    await api(`/rooms/${session.roomId}/debate`, { method: "POST", body: {} });
  } catch (error) {
    showError(error.message);
  }
}

async function onRecordToggle() {
  const on = Boolean($("record-toggle").dataset.on);
  try {
    await api(`/rooms/${session.roomId}/recording`, { method: on ? "DELETE" : "POST" });
  } catch (error) {
    showError(error.message);
  }
}

async function openReplay(id) {
  $("lobby").hidden = true;
  $("replay").hidden = false;
  try {
    await openRecording(id, {
      audio: $("replay-audio"),
      transcript: $("replay-transcript"),
      title: $("replay-title"),
      downloads: $("replay-downloads"),
    });
  } catch (error) {
    showError(error instanceof ApiError && error.status === 404 ? "This recording does not exist (any more)." : error.message);
  }
}

function onMute() {
  const muted = !session.muted;
  session.setMuted(muted);
  $("mute").setAttribute("aria-pressed", String(muted));
  $("mute").textContent = muted ? "Unmute" : "Mute";
}

function meters() {
  const connection = session?.connection;
  $("mic-level").value = connection?.micMeter && !session.muted ? connection.micMeter.level() : 0;
  session?.floor.meters(connection?.roomMeter ? connection.roomMeter.level() : 0);
  requestAnimationFrame(meters);
}

// For tests and the curious.
window.podium = {
  stats: () => session?.connection?.stats() ?? null,
  connectionStats: () => session?.connection?.route?.() ?? null,
  state: () => ({ role: session?.role ?? null, room: session?.roomId ?? null, speaking: session?.floor.speaking ?? null }),
  handledEventTypes: () => (session ? Object.keys(session.handlers) : []),
};

async function main() {
  $("create").addEventListener("submit", onCreate);
  $("join-speaker").addEventListener("click", () => session?.join("speaker"));
  $("join-listener").addEventListener("click", () => session?.join("listener"));
  $("join-broadcast").addEventListener("click", () => session?.join("broadcast"));
  $("leave").addEventListener("click", () => session?.leave());
  $("mute").addEventListener("click", onMute);
  $("debate").addEventListener("click", onDebate);
  $("record-toggle").addEventListener("click", onRecordToggle);
  $("say").addEventListener("submit", onSay);
  window.addEventListener("pagehide", () => session?.connection?.close());
  try {
    await loadAgents($("agents"), $("debaters"));
  } catch (error) {
    showError(error.message);
    setConnection("lost", "Server unreachable");
    return;
  }
  setConnection("connected", "Connected");
  const query = new URLSearchParams(location.search);
  const roomId = query.get("room");
  if (roomId) await openRoom(roomId);
  else if (query.get("recording")) await openReplay(query.get("recording"));
  else {
    await loadRooms($("rooms")).catch((error) => showError(error.message));
    await loadRecordings($("recordings")).catch(() => {});
  }
}

main();
