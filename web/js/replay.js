// Recordings: the list, and a player with the transcript beside it (the words being heard
// highlighted, a click on a line seeks to it) and download links.

import { api, withCredential } from "./api.js";
import { esc, nameOf } from "./directory.js";

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export async function loadRecordings(list) {
  const recordings = await api("/recordings");
  list.replaceChildren();
  if (!recordings.length) {
    list.innerHTML = `<li class="muted">No recordings yet. Tick “Record the room” when you start one.</li>`;
    return;
  }
  for (const r of recordings) {
    const item = document.createElement("li");
    const when = new Date(r.started * 1000).toLocaleString();
    const state = r.state === "recording" ? " · recording now" : r.state === "finished" ? "" : ` · ${r.state}`;
    item.innerHTML = `<span><strong>${esc(r.topic)}</strong>
      <span class="muted"> · ${esc(when)} · ${clock(r.duration)}${esc(state)}</span></span>
      <a href="/?recording=${encodeURIComponent(r.id)}">Play</a>`;
    list.append(item);
  }
}

export async function openRecording(id, { audio, transcript, title, downloads }) {
  const recording = await api(`/recordings/${id}`);
  const document_ = await api(recording.transcript_json);
  title.textContent = `${recording.topic} — recorded ${new Date(recording.started * 1000).toLocaleString()}`;
  audio.src = withCredential(recording.audio);
  downloads.innerHTML = [
    ["Audio (Ogg/Opus)", recording.audio],
    ["Transcript (JSON)", recording.transcript_json],
    ["Captions (WebVTT)", recording.transcript_vtt],
  ]
    .map(([label, path]) => `<a href="${esc(withCredential(path))}" download>${label}</a>`)
    .join(" · ");
  const words = [];
  transcript.replaceChildren();
  for (const turn of document_.turns) {
    const line = document.createElement("li");
    line.className = "replay-line";
    line.dataset.start = turn.start;
    const who = document.createElement("strong");
    who.textContent = `${nameOf(turn.speaker)} `;
    const stamp = document.createElement("span");
    stamp.className = "muted";
    stamp.textContent = `${clock(turn.start)} `;
    line.append(stamp, who);
    for (const word of turn.words || []) {
      const span = document.createElement("span");
      span.textContent = `${word.word} `;
      span.dataset.start = word.start;
      span.dataset.end = word.end;
      words.push(span);
      line.append(span);
    }
    if (!turn.words?.length) line.append(document.createTextNode(turn.text));
    if (turn.state === "interrupted") line.append(Object.assign(document.createElement("em"), { textContent: " (cut off)" }));
    line.addEventListener("click", () => {
      audio.currentTime = Number(turn.start);
      audio.play().catch(() => {});
    });
    transcript.append(line);
  }
  audio.addEventListener("timeupdate", () => {
    const now = audio.currentTime;
    for (const span of words) {
      span.classList.toggle("heard-now", Number(span.dataset.start) <= now && now < Number(span.dataset.end));
    }
  });
  return { recording, transcript: document_ };
}
