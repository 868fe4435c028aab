// A room session: the room's events (one handler per type the server defines), joining as a
// speaker or listener, and reconnecting after a lost connection or a server restart.

import { api, ApiError, serverUp, withCredential } from "./api.js";
import { me, nameOf } from "./directory.js";
import { IceBlocked, RoomConnection } from "./rtc.js";
import { BroadcastConnection } from "./broadcast.js";
import { SocketConnection } from "./socket_audio.js";

const BLOCKED_WHY = "Your network blocks the audio connection; ask the operator to configure TURN.";
const BLOCKED = `${BLOCKED_WHY} Audio now goes over the web connection instead (a little more delay).`;

export class RoomSession {
  constructor(roomId, { transcript, floor, ui }) {
    this.roomId = roomId;
    this.transcript = transcript;
    this.floor = floor;
    this.ui = ui; // {setConnection, showError, renderRoom, recording, audioElement, joined}
    this.events = null;
    this.connection = null;
    this.role = null;
    this.muted = false;
    this.reconnecting = false;
    this.overSocket = false; // WebRTC could not connect here: audio rides the WebSocket
    this.handlers = this.eventHandlers();
  }

  // Every room event type, and what the page does with it.
  eventHandlers() {
    const t = this.transcript;
    const f = this.floor;
    return {
      subscribed: (e) => {
        this.ui.renderRoom(e.info);
        this.ui.recording(e.info.recording?.id ?? null);
        t.clear();
        for (const earlier of e.transcript) this.handle(earlier);
        f.setAgents(e.info.agents, e.info.speaking);
        if (this.resubscribed) t.note("Reconnected.");
        this.resubscribed = false;
      },
      participant_joined: (e) => e.name !== me && t.note(`${e.name} joined as ${e.role}`),
      participant_left: (e) => {
        f.personStopped(e.name);
        t.person(e.name, "", true);
        if (e.name !== me) t.note(`${e.name} left`);
      },
      speech_started: (e) => {
        if (!e.accepted) return;
        f.personStarted(e.who);
        t.person(e.who, "", false);
      },
      speech_stopped: (e) => f.personStopped(e.who),
      partial_transcript: (e) => t.person(e.who, e.text, false),
      final_transcript: (e) => {
        if (e.ignored) t.person(e.who, "", true);
        else t.person(e.who, e.text || "(didn't catch that)", true);
      },
      sentence_resumed: (e) => t.note(`${nameOf(e.who)} went on: the answer is to the whole sentence`),
      turn_started: (e) => {
        f.agentStarted(e.agent);
        t.turnStarted(e.agent, e.task_id);
      },
      words_played: (e) => {
        f.progress(e.agent, "");
        t.words(e.agent, e.task_id, e.text);
      },
      progress_noted: (e) => f.progress(e.agent, e.text),
      turn_ended: (e) => {
        f.agentEnded(e.agent);
        t.turnEnded(e.task_id, e.state);
      },
      ducked: () => {},
      resumed: (e) => {
        const why = e.reason === "left" ? `${nameOf(e.by)} left` : "didn't catch that";
        t.note(`${why} — ${nameOf(e.agent)} goes on`);
      },
      interrupted: (e) => t.note(`${nameOf(e.by)} cut in on ${nameOf(e.agent)}`),
      bid_made: (e) => f.bid(e),
      debate_started: () => {
        this.ui.debateStarted();
        t.note("The debate has started.");
      },
      debate_finished: () => t.note("The debate is over."),
      engine_failed: (e) => t.note(`Problem in the room (${e.stage}): ${e.message}`),
      recording_started: () => {
        this.ui.recording(true);
        t.note("This room is being recorded from now on.");
      },
      recording_stopped: (e) => {
        this.ui.recording(null);
        t.note(e.state === "failed" ? `The recording stopped: ${e.reason}` : "The recording stopped.");
      },
      room_closed: () => this.ui.showError("This room was closed."),
    };
  }

  handle(event) {
    const handler = this.handlers[event.type];
    if (handler) handler(event);
    else console.warn("unhandled room event", event.type);
  }

  subscribe() {
    this.events?.close();
    const source = new EventSource(withCredential(`/rooms/${this.roomId}/events`));
    this.events = source;
    source.onopen = () => {
      if (!this.connection) this.ui.setConnection("connected", "Connected — not joined");
    };
    source.onmessage = (message) => this.handle(JSON.parse(message.data));
    source.onerror = () => {
      source.close();
      this.reconnect();
    };
  }

  async join(role) {
    this.ui.showError("");
    await this.leave({ quiet: true });
    this.ui.setConnection("connecting", "Connecting audio…");
    if (role === "broadcast") return this.joinBroadcast();
    if (this.overSocket) return this.joinOverSocket(role, null);
    const connection = new RoomConnection(this.roomId, {
      role,
      name: me,
      audioElement: this.ui.audioElement,
      onState: (state, wasConnected) => this.webrtcState(connection, role, state, wasConnected),
    });
    this.connection = connection; // its state changes may come before open() returns
    try {
      await connection.open();
    } catch (error) {
      const blocked = error instanceof IceBlocked || (error instanceof ApiError && error.status === 503);
      if (blocked) return this.fallBack(connection, role);
      this.connection = null;
      connection.release();
      await connection.close();
      if (role === "listener" && error instanceof ApiError && error.status === 409) {
        this.transcript.note("The room is full for live listeners: you hear it through the broadcast, a few seconds behind.");
        return this.joinBroadcast();
      }
      this.failed(error);
      return;
    }
    this.role = role;
    connection.setMuted(this.muted);
    this.ui.joined(role);
  }

  webrtcState(connection, role, state, wasConnected) {
    if (connection !== this.connection) return;
    const doing = role === "speaker" ? "speaking" : "listening";
    if (state === "connected") this.ui.setConnection("connected", `Connected — ${doing}`);
    else if (state === "disconnected") this.ui.setConnection("reconnecting", "Audio interrupted — waiting for the network…");
    else if (state === "failed" && wasConnected) this.reconnect(); // dropped: rejoin
    else if (state === "failed") this.fallBack(connection, role); // ICE never connected
  }

  // The broadcast: a few seconds behind, nothing per listener on the server.
  async joinBroadcast() {
    const connection = new BroadcastConnection(this.roomId, {
      audioElement: this.ui.audioElement,
      onState: (state, error) => {
        if (connection !== this.connection) return;
        if (state === "connected") this.ui.setConnection("connected", "Connected — listening to the broadcast (a few seconds behind)");
        else if (state === "failed") this.failed(error);
      },
    });
    this.connection = connection;
    try {
      await connection.open();
    } catch (error) {
      this.connection = null;
      await connection.close();
      this.failed(error);
      return;
    }
    this.role = "listener";
    this.ui.joined("listener");
  }

  // WebRTC cannot connect from here: say so, and carry the audio over the room's WebSocket.
  async fallBack(connection, role) {
    const mic = connection.mic;
    connection.mic = null; // kept for the socket
    if (this.connection === connection) this.connection = null;
    await connection.close();
    connection.release();
    this.overSocket = true;
    this.transcript.note(BLOCKED);
    await this.joinOverSocket(role, mic);
  }

  async joinOverSocket(role, mic) {
    if (role === "speaker" && !mic) {
      try {
        mic = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        });
      } catch (error) {
        this.failed(new Error(`Microphone unavailable (${error?.name || error}). You can listen only.`));
        return;
      }
    }
    const connection = new SocketConnection(this.roomId, {
      role,
      name: me,
      mic,
      audioElement: this.ui.audioElement,
      onState: (state) => {
        if (connection !== this.connection) return;
        if (state === "connected") {
          const doing = role === "speaker" ? "speaking" : "listening";
          this.ui.setConnection("connected", `Connected — ${doing} (audio over the web connection)`);
        } else if (state === "failed") this.reconnect();
      },
    });
    this.connection = connection;
    try {
      await connection.open();
    } catch (error) {
      this.connection = null;
      connection.release();
      await connection.close();
      this.failed(new Error(`${BLOCKED_WHY} The fallback failed too: ${error.message}`));
      return;
    }
    this.role = role;
    connection.setMuted(this.muted);
    this.ui.setConnection("connected", `Connected — ${role === "speaker" ? "speaking" : "listening"} (audio over the web connection)`);
    this.ui.joined(role);
  }

  failed(error) {
    this.ui.setConnection("idle", "Not joined");
    const full = error instanceof ApiError && error.status === 409;
    this.ui.showError(full ? `This room is full: ${error.message}` : error.message);
  }

  async leave({ quiet = false } = {}) {
    const connection = this.connection;
    this.connection = null;
    this.role = quiet ? this.role : null;
    if (connection) {
      await connection.close();
      connection.release();
    }
    if (!quiet) {
      this.ui.setConnection("connected", "Connected — not joined");
      this.ui.joined(null);
    }
  }

  setMuted(muted) {
    this.muted = muted;
    this.connection?.setMuted(muted);
  }

  async reconnect() {
    if (this.reconnecting) return;
    this.reconnecting = true;
    const role = this.role;
    this.ui.setConnection("lost", "Connection lost — reconnecting…");
    if (this.connection) await this.connection.close({ leave: false });
    let delay = 500;
    while (!(await serverUp())) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
      this.ui.setConnection("reconnecting", "Server unreachable — retrying…");
    }
    try {
      await api(`/rooms/${this.roomId}`);
    } catch (error) {
      this.reconnecting = false;
      this.ui.setConnection("lost", "Disconnected");
      this.ui.showError(error.status === 404 ? "This room no longer exists." : error.message);
      return;
    }
    this.reconnecting = false;
    this.resubscribed = true;
    this.subscribe(); // the snapshot redraws the transcript
    if (role) {
      const connection = this.connection;
      this.connection = null;
      connection?.release();
      await this.join(role);
    } else {
      this.ui.setConnection("connected", "Connected — not joined");
    }
  }
}
