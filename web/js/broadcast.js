// Listening through the room's broadcast (HLS: Opus in fragmented MP4), a few seconds behind
// the room and costing the server nothing per listener. Media Source Extensions play it; the
// playlist is reloaded by blocking requests (_HLS_msn: the server answers when the next
// segment is out), so nothing polls.

import { withCredential } from "./api.js";

const CODECS = 'audio/mp4; codecs="opus"';
const START_BEHIND = 2; // segments behind the newest to start from

function parse(text) {
  const lines = text.split("\n").map((l) => l.trim());
  const sequence = Number((lines.find((l) => l.startsWith("#EXT-X-MEDIA-SEQUENCE:")) || ":0").split(":")[1]);
  const map = (lines.find((l) => l.startsWith("#EXT-X-MAP:")) || "").match(/URI="([^"]+)"/)?.[1];
  const uris = lines.filter((l) => l && !l.startsWith("#"));
  return { map, segments: uris.map((uri, i) => ({ seq: sequence + i, uri })) };
}

export class BroadcastConnection {
  constructor(roomId, { audioElement, onState }) {
    this.roomId = roomId;
    this.audio = audioElement;
    this.onState = onState;
    this.closed = false;
    this.bytesReceived = 0;
    this.micMeter = null;
    this.roomMeter = null;
  }

  static supported() {
    return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(CODECS);
  }

  async open() {
    if (!BroadcastConnection.supported()) throw new Error("This browser cannot play the broadcast (Opus in MP4).");
    const first = await fetch(withCredential(`/rooms/${this.roomId}/live.m3u8`));
    if (!first.ok) throw new Error(`The broadcast is unavailable (${first.status}).`);
    this.base = new URL(".", first.url); // the playlist's folder: its keyed URLs are relative
    let playlist = parse(await first.text());
    this.source = new MediaSource();
    this.audio.src = URL.createObjectURL(this.source);
    await new Promise((resolve) => this.source.addEventListener("sourceopen", resolve, { once: true }));
    this.buffer = this.source.addSourceBuffer(CODECS);
    while (!playlist.map || !playlist.segments.length) playlist = await this.reload(0);
    await this.append(await this.fetch(playlist.map));
    const last = playlist.segments[playlist.segments.length - 1].seq;
    this.next = Math.max(playlist.segments[0].seq, last - START_BEHIND + 1);
    this.onState("connected");
    this.loop(playlist);
  }

  async reload(msn) {
    const response = await fetch(new URL(`index.m3u8?_HLS_msn=${msn}`, this.base));
    if (!response.ok) throw new Error(`The broadcast ended (${response.status}).`);
    return parse(await response.text());
  }

  async fetch(uri) {
    const response = await fetch(new URL(uri, this.base));
    if (!response.ok) throw new Error(`A broadcast segment is missing (${response.status}).`);
    const data = await response.arrayBuffer();
    this.bytesReceived += data.byteLength;
    return data;
  }

  append(data) {
    return new Promise((resolve, reject) => {
      this.buffer.addEventListener("updateend", resolve, { once: true });
      this.buffer.addEventListener("error", reject, { once: true });
      this.buffer.appendBuffer(data);
    });
  }

  async loop(playlist) {
    try {
      while (!this.closed) {
        for (const segment of playlist.segments.filter((s) => s.seq >= this.next)) {
          await this.append(await this.fetch(segment.uri));
          this.next = segment.seq + 1;
          if (this.audio.paused) {
            this.audio.currentTime = this.buffer.buffered.start(0);
            this.audio.play().catch(() => {});
          }
        }
        playlist = await this.reload(this.next);
      }
    } catch (error) {
      if (!this.closed) this.onState("failed", error);
    }
  }

  stats() {
    return { bytesReceived: this.bytesReceived, broadcast: true };
  }

  setMuted() {}

  release() {}

  async close() {
    this.closed = true;
    this.audio.pause();
    if (this.source?.readyState === "open") this.source.endOfStream();
    this.audio.removeAttribute("src");
  }
}
