"""Audio only: decoding and resampling, VAD, speech engines, paced outbound tracks, WebRTC."""
