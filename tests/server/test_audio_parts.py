"""Speaking to an agent in A2A audio parts, with the a2a-sdk client on loopback: a recorded
utterance (a fixture, as WAV, or as Ogg/Opus) is heard by the room's voice detector and
recognizer, what was heard is kept on the task, and a client that accepts audio gets the
answer spoken too, as a file that decodes. Audio that cannot be heard is -32602 naming the
part, before any task exists."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from a2a.types import a2a_pb2 as pb
from google.protobuf.json_format import MessageToDict

from agents.persona import BrainSpec
from clients.a2a import fetch_card, make_client
from clients.fixtures import labelled_speech
from media.ogg_opus import OggOpusWriter
from media.opus import OpusLane
from media.pcm import OUT_FRAME
from media.spoken_reply import wav_bytes
from media.tts import Speech
from media.voice import at_48k
from tests.serving import serve_podium

COMPLETED = pb.TaskState.TASK_STATE_COMPLETED


def ogg_bytes(pcm: np.ndarray) -> bytes:
    loud = at_48k(Speech(pcm, 16000, ())).pcm
    lane, writer = OpusLane(), OggOpusWriter()
    for index in range(len(loud) // OUT_FRAME):
        if packet := lane.encode(loud[index * OUT_FRAME : (index + 1) * OUT_FRAME], index):
            writer.add(packet)
    return writer.take() + writer.close()


def spoken_message(part: pb.Part, accepted: list[str]) -> pb.SendMessageRequest:
    message = pb.Message(message_id=f"m-{id(part)}", role=pb.Role.ROLE_USER, parts=[part])
    configuration = pb.SendMessageConfiguration(accepted_output_modes=accepted)
    return pb.SendMessageRequest(message=message, configuration=configuration)


@pytest.mark.parametrize("container", ["audio/wav", "audio/ogg"])
async def test_an_agent_hears_an_audio_part_and_answers_in_text_and_speech(
    tmp_path: Path, container: str
) -> None:
    clip = labelled_speech()[0]
    silence = np.zeros(8000, np.int16)
    pcm = np.concatenate([silence, clip.pcm, silence])
    data = wav_bytes(pcm, 16000) if container == "audio/wav" else ogg_bytes(pcm)
    paced = BrainSpec(words_per_second=30)  # the answer streams for a second or two
    with serve_podium(tmp_path, brain=paced) as url:
        async with httpx.AsyncClient(timeout=60) as http:
            card = await fetch_card(http, f"{url}/agents/mei")
            assert container in card.default_input_modes
            assert "audio/ogg" in card.default_output_modes
            client = make_client(http, card)
            part = pb.Part(raw=data, media_type=container, filename="question")
            request = spoken_message(part, ["text/plain", "audio/ogg"])
            responses = [r async for r in client.send_message(request)]
            task_id = next(
                r.status_update.task_id for r in responses if r.HasField("status_update")
            )
            task = await client.get_task(pb.GetTaskRequest(id=task_id, history_length=10))
            assert task.status.state == COMPLETED
            asked = next(m for m in task.history if m.role == pb.Role.ROLE_USER)
            heard_text = " ".join(p.text for p in asked.parts if p.text)
            expected = set(clip.words.lower().split())
            assert len(set(heard_text.lower().split()) & expected) >= 3, (heard_text, clip.words)
            listed = MessageToDict(asked.metadata)["heard"]
            assert [(int(h["part"]), h["text"]) for h in listed] == [(0, heard_text)]
            answer = "".join(p.text for a in task.artifacts if a.name != "speech" for p in a.parts)
            assert len(answer.split()) > 5
            (speech,) = [a for a in task.artifacts if a.name == "speech"]
            assert len(speech.parts) >= 2  # phrase by phrase, each a file of its own
            seconds = 0.0
            for file in speech.parts:
                assert file.media_type == "audio/ogg" and file.filename.endswith(".ogg")
                with av.open(io.BytesIO(file.raw)) as decoded:
                    seconds += sum(f.samples for f in decoded.decode(audio=0)) / 48000
            assert seconds > 0.1 * len(answer.split())  # about the answer's length
            # Streamed: the first phrase's audio came before the answer's text had ended.
            kinds = [
                "speech" if r.artifact_update.artifact.name == "speech" else "text"
                for r in responses
                if r.HasField("artifact_update")
            ]
            assert "speech" in kinds and kinds.index("speech") < len(kinds) - 1 - kinds[::-1].index(
                "text"
            )


async def test_audio_that_cannot_be_heard_is_invalid_params_naming_the_part(
    tmp_path: Path,
) -> None:
    def jsonrpc(parts: list[dict[str, object]]) -> dict[str, object]:
        message = {"messageId": "m1", "role": "ROLE_USER", "parts": parts}
        return {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}

    silent = base64.b64encode(wav_bytes(np.zeros(16000, np.int16), 16000)).decode()
    garbage = base64.b64encode(b"RIFF not really a wave file" * 10).decode()
    cases = {
        "could not be decoded": [{"raw": garbage, "mediaType": "audio/wav"}],
        "empty": [{"raw": "", "mediaType": "audio/wav"}],
        "no speech": [{"text": "listen:"}, {"raw": silent, "mediaType": "audio/wav"}],
        "loopback": [{"url": "http://127.0.0.1:9/a.wav", "mediaType": "audio/wav"}],
        "not a URL": [{"url": "http://[::1/a.wav", "mediaType": "audio/wav"}],
        "not an audio type": [{"raw": silent, "mediaType": "audio/x-unknown"}],
    }
    with serve_podium(tmp_path) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            headers = {"A2A-Version": "1.0"}
            for why, parts in cases.items():
                reply = await http.post(f"{url}/agents/mei", json=jsonrpc(parts), headers=headers)
                assert reply.status_code == 200
                error = reply.json()["error"]
                assert error["code"] == -32602, (why, error)
                index = len(parts) - 1
                assert f"message part {index}" in error["message"] and why in error["message"], (
                    why,
                    error,
                )
            listed = await http.post(
                f"{url}/agents/mei",
                json={"jsonrpc": "2.0", "id": 2, "method": "ListTasks", "params": {}},
                headers=headers,
            )
            assert listed.json()["result"].get("tasks", []) == []  # no task was made for them
