"""The audio every stage shares: 16-bit mono samples, cut into 20 ms frames.

Inbound audio is 16 kHz (what the VAD and recognizers take); outbound audio is 48 kHz
(what Opus carries). One frame is ``FRAME_SECONDS`` long at either rate.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Pcm = npt.NDArray[np.int16]

FRAME_SECONDS = 0.02
IN_RATE = 16000
OUT_RATE = 48000
IN_FRAME = round(IN_RATE * FRAME_SECONDS)  # 320 samples
OUT_FRAME = round(OUT_RATE * FRAME_SECONDS)  # 960 samples
