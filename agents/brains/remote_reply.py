"""What a remote A2A agent said, apart from what it reported while working on it.

A2A agents answer in different shapes: artifacts (the answer, streamed or whole), a
``Message`` result, or status messages. A ``working`` status message that comes before any
artifact is usually a progress note ("Processing your question"), not the answer; but an
agent that never produces an artifact answers through those messages. :class:`RemoteReply`
sorts a response stream as it arrives (pure: responses in, items out):

- artifact text is the answer, voiced as it streams; notes held until then were progress;
- a ``Message`` result is the answer;
- a ``working`` status message is a :class:`ProgressNoted` at once, and is held: when the
  task ends without an artifact, the held messages (or the final status message, when the
  task ended with one) are the answer.
"""

from __future__ import annotations

from a2a.types import a2a_pb2 as pb

from agents.brains.brain import ProgressNoted, Said

_ENDED = (
    pb.TaskState.TASK_STATE_COMPLETED,
    pb.TaskState.TASK_STATE_INPUT_REQUIRED,
    pb.TaskState.TASK_STATE_AUTH_REQUIRED,
)
FAILED = (
    pb.TaskState.TASK_STATE_FAILED,
    pb.TaskState.TASK_STATE_REJECTED,
    pb.TaskState.TASK_STATE_CANCELED,
)


def _text(parts: list[pb.Part]) -> str:
    return "".join(p.text for p in parts if p.HasField("text"))


class RemoteReply:
    def __init__(self) -> None:
        self.answered = False  # answer text (not a note) has been given out
        self._held: list[str] = []
        self._final = ""
        self.failure: str | None = None  # the task ended failed, rejected or canceled

    def take(self, response: pb.StreamResponse) -> list[Said]:
        match response.WhichOneof("payload"):
            case "artifact_update":
                return self._answer(_text(list(response.artifact_update.artifact.parts)))
            case "message":
                return self._answer(_text(list(response.message.parts)))
            case "status_update":
                return self._status(response.status_update.status)
            case "task":
                task = response.task
                said = [
                    item
                    for artifact in task.artifacts
                    for item in self._answer(_text(list(artifact.parts)))
                ]
                return said + self._status(task.status) if task.HasField("status") else said
        return []

    def finish(self) -> list[Said]:
        """The stream ended: an agent that gave no artifact answered in its messages."""
        if self.answered or self.failure is not None:
            return []
        if self._final:
            return self._answer(self._final)
        held, self._held = "".join(self._held), []
        return self._answer(held)

    def _answer(self, text: str) -> list[Said]:
        if not text:
            return []
        self.answered = True
        self._held = []
        return [text]

    def _status(self, status: pb.TaskStatus) -> list[Said]:
        text = _text(list(status.message.parts)) if status.HasField("message") else ""
        if status.state in FAILED:
            self.failure = text or pb.TaskState.Name(status.state).removeprefix("TASK_STATE_")
            return []
        if status.state in _ENDED:
            self._final = "" if self.answered else text
            return []
        if not text:
            return []
        if not self.answered:
            self._held.append(text)
        return [ProgressNoted(text)]
