// Audio worklets for the WebSocket fallback, in an AudioContext running at the socket's rate
// (16 kHz): "pcm-capture" posts the microphone as 20 ms blocks of 16-bit PCM; "pcm-player"
// plays the room's 20 ms blocks from a short queue (silence when it runs dry).

class PcmCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frame = new Int16Array(options.processorOptions.frameSamples);
    this.filled = 0;
  }
  process(inputs) {
    const input = inputs[0]?.[0];
    if (!input) return true;
    for (const sample of input) {
      const s = Math.max(-1, Math.min(1, sample));
      this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === this.frame.length) {
        this.port.postMessage(this.frame.buffer.slice(0));
        this.filled = 0;
      }
    }
    return true;
  }
}

class PcmPlayer extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { startSamples, maxSamples } = options.processorOptions;
    this.startSamples = startSamples; // queued before playing starts (absorbs jitter)
    this.maxSamples = maxSamples; // beyond this the oldest audio is dropped (stays live)
    this.queue = [];
    this.queued = 0;
    this.offset = 0;
    this.playing = false;
    this.port.onmessage = (event) => {
      const pcm = new Int16Array(event.data);
      this.queue.push(pcm);
      this.queued += pcm.length;
      while (this.queued - this.offset > this.maxSamples && this.queue.length > 1) {
        this.queued -= this.queue.shift().length;
        this.offset = 0;
      }
    };
  }
  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!this.playing && this.queued >= this.startSamples) this.playing = true;
    for (let i = 0; i < out.length; i++) {
      if (!this.playing || this.queue.length === 0) {
        out[i] = 0;
        continue;
      }
      const head = this.queue[0];
      out[i] = head[this.offset++] / 0x8000;
      if (this.offset === head.length) {
        this.queue.shift();
        this.queued -= head.length;
        this.offset = 0;
      }
    }
    if (this.queue.length === 0) this.playing = false; // ran dry: refill before playing on
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
registerProcessor("pcm-player", PcmPlayer);
