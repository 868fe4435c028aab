// One WebRTC connection to a room: the microphone out (speakers), the room's mix in, over the
// STUN/TURN servers the room hands out (TURN credentials minted for this join).

import { api } from "./api.js";

export class Meter {
  // The level (0..1) of a MediaStream, read on demand.
  constructor(context, stream) {
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 512;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source = context.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
  }
  level() {
    this.analyser.getFloatTimeDomainData(this.samples);
    let peak = 0;
    for (const s of this.samples) peak = Math.max(peak, Math.abs(s));
    return Math.min(1, peak * 1.5);
  }
  stop() {
    this.source.disconnect();
  }
}

// ICE found no way to the server at all: this network blocks WebRTC's UDP (and TURN is not
// configured or not reachable either). The session falls back to the audio socket.
export class IceBlocked extends Error {}

// Page URL ?relay=1: this browser uses TURN relays only (an operator's check of the TURN path).
const RELAY_ONLY = new URLSearchParams(location.search).get("relay") === "1";
const CONNECT_SECONDS = 15; // ICE checks that have not connected by then have failed

export class RoomConnection {
  constructor(roomId, { role, name, audioElement, onState }) {
    this.roomId = roomId;
    this.role = role;
    this.name = name;
    this.audio = audioElement;
    this.onState = onState;
    this.pc = null;
    this.mic = null;
    this.participantId = null;
    this.context = null;
    this.micMeter = null;
    this.roomMeter = null;
    this.connected = false;
    this.kind = "webrtc";
  }

  async open() {
    this.context = this.context || new AudioContext();
    if (this.role === "speaker" && !this.mic) {
      try {
        this.mic = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        });
      } catch (error) {
        const denied = error?.name === "NotAllowedError" || error?.name === "SecurityError";
        throw new Error(
          denied
            ? "Microphone access was denied. Allow it in the browser, or listen only."
            : `No microphone available (${error?.name || error}). You can listen only.`,
        );
      }
      this.micMeter = new Meter(this.context, this.mic);
    }
    const ice = await api(`/rooms/${this.roomId}/ice-servers`);
    const pc = new RTCPeerConnection({
      iceServers: ice.ice_servers,
      iceTransportPolicy: RELAY_ONLY ? "relay" : "all",
    });
    this.pc = pc;
    if (this.mic) {
      for (const track of this.mic.getAudioTracks()) pc.addTrack(track, this.mic);
    } else {
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.ontrack = (event) => {
      const stream = event.streams[0] || new MediaStream([event.track]);
      this.audio.srcObject = stream;
      this.audio.play().catch(() => {});
      this.roomMeter?.stop();
      this.roomMeter = new Meter(this.context, stream);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") this.connected = true;
      this.onState(pc.connectionState, this.connected);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    if (!/^a=candidate:/m.test(pc.localDescription.sdp)) {
      throw new IceBlocked("this network gives the browser no address for WebRTC audio");
    }
    const answer = await api(`/rooms/${this.roomId}/offer`, {
      method: "POST",
      body: { sdp: pc.localDescription.sdp, type: "offer", role: this.role, name: this.name },
    });
    this.participantId = answer.participant_id;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    await this.context.resume().catch(() => {});
    this.watchdog = setTimeout(() => {
      if (this.pc === pc && !this.connected) this.onState("failed", false);
    }, CONNECT_SECONDS * 1000);
  }

  setMuted(muted) {
    for (const track of this.mic?.getAudioTracks() || []) track.enabled = !muted;
  }

  async stats() {
    // Inbound audio: bytes received and the current audio level (for checks and display).
    if (!this.pc) return null;
    const report = await this.pc.getStats();
    for (const stat of report.values()) {
      if (stat.type === "inbound-rtp" && stat.kind === "audio") {
        return { bytesReceived: stat.bytesReceived, audioLevel: stat.audioLevel ?? 0,
                 packetsLost: stat.packetsLost ?? 0, jitter: stat.jitter ?? 0 };
      }
    }
    return null;
  }

  async route() {
    // The candidate types of the pair in use: {local, remote} ("host", "srflx", "relay").
    if (!this.pc) return null;
    const report = await this.pc.getStats();
    for (const stat of report.values()) {
      if (stat.type === "transport" && stat.selectedCandidatePairId) {
        const pair = report.get(stat.selectedCandidatePairId);
        return {
          local: report.get(pair.localCandidateId)?.candidateType,
          remote: report.get(pair.remoteCandidateId)?.candidateType,
        };
      }
    }
    return null;
  }

  async close({ leave = true } = {}) {
    const id = this.participantId;
    this.participantId = null;
    clearTimeout(this.watchdog);
    if (this.pc) {
      this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
    }
    if (leave && id) {
      await api(`/rooms/${this.roomId}/participants/${id}`, { method: "DELETE" }).catch(() => {});
    }
  }

  release() {
    releaseMedia(this);
  }
}

// Stops a connection's microphone and meters (both kinds of connection hold them alike).
export function releaseMedia(connection) {
  for (const track of connection.mic?.getTracks() || []) track.stop();
  connection.mic = null;
  connection.micMeter?.stop();
  connection.micMeter = null;
  connection.roomMeter?.stop();
  connection.roomMeter = null;
}

function iceGathered(pc) {
  // The server answers one complete offer (no trickle ICE): wait for gathering to finish, at
  // most 3 s (an unreachable STUN/TURN server must not stall the join), then offer what we have.
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);
  });
}
