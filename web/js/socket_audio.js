// The room's audio over its WebSocket (/rooms/{id}/audio), for networks where WebRTC cannot
// connect: 16 kHz mono 16-bit PCM both ways, through the same HTTPS port as the page.
// Same interface as RoomConnection (open, setMuted, stats, close, release).

import { withCredential } from "./api.js";
import { Meter, releaseMedia } from "./rtc.js";

const RATE = 16000;
const FRAME = RATE / 50; // 20 ms

export class SocketConnection {
  constructor(roomId, { role, name, audioElement, onState, mic }) {
    this.roomId = roomId;
    this.role = role;
    this.name = name;
    this.audio = audioElement;
    this.onState = onState;
    this.mic = mic || null; // the microphone stream, when the WebRTC attempt already has it
    this.socket = null;
    this.context = null;
    this.participantId = null;
    this.micMeter = null;
    this.roomMeter = null;
    this.bytesReceived = 0;
    this.closedByUs = false;
    this.kind = "socket";
  }

  async open() {
    this.context = new AudioContext({ sampleRate: RATE });
    await this.context.audioWorklet.addModule("/web/js/pcm_worklet.js");
    const player = new AudioWorkletNode(this.context, "pcm-player", {
      numberOfInputs: 0,
      outputChannelCount: [1],
      processorOptions: { startSamples: 3 * FRAME, maxSamples: 25 * FRAME },
    });
    const out = this.context.createMediaStreamDestination();
    player.connect(out);
    this.audio.srcObject = out.stream;
    this.audio.play().catch(() => {});
    this.roomMeter = new Meter(this.context, out.stream);

    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = `role=${this.role}&name=${encodeURIComponent(this.name || "")}`;
    const url = `${scheme}://${location.host}${withCredential(`/rooms/${this.roomId}/audio?${query}`)}`;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    const joined = new Promise((resolve, reject) => {
      socket.onmessage = (event) => {
        if (typeof event.data === "string") {
          const message = JSON.parse(event.data);
          if (message.type === "joined") {
            this.participantId = message.participant_id;
            resolve();
          }
          return;
        }
        this.bytesReceived += event.data.byteLength;
        player.port.postMessage(event.data, [event.data]);
      };
      socket.onclose = (event) => {
        reject(new Error(event.reason || `the audio connection closed (${event.code})`));
        if (this.participantId && !this.closedByUs) this.onState("failed"); // dropped later
      };
    });
    await joined;

    if (this.role === "speaker" && this.mic) {
      const source = this.context.createMediaStreamSource(this.mic);
      const capture = new AudioWorkletNode(this.context, "pcm-capture", {
        numberOfOutputs: 0,
        processorOptions: { frameSamples: FRAME },
      });
      capture.port.onmessage = (event) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(event.data);
      };
      source.connect(capture);
      this.micMeter = new Meter(this.context, this.mic);
    }
    await this.context.resume().catch(() => {});
    this.onState("connected");
  }

  setMuted(muted) {
    for (const track of this.mic?.getAudioTracks() || []) track.enabled = !muted;
  }

  async stats() {
    const level = this.roomMeter ? this.roomMeter.level() : 0;
    return { bytesReceived: this.bytesReceived, audioLevel: level, packetsLost: 0, jitter: 0 };
  }

  async close({ leave = true } = {}) {
    this.closedByUs = true;
    this.participantId = null;
    this.socket?.close(1000);
    this.socket = null;
    void leave; // closing the socket is leaving the room
  }

  release() {
    releaseMedia(this);
    this.context?.close().catch(() => {});
    this.context = null;
  }
}
