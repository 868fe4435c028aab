"""A client's mistakes get a clear error that names the problem, and nothing is stored: JSON
nested too deep on every kind of route, ``podium`` metadata of the wrong type, debates started
twice at once."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InvalidParamsError

from clients.a2a import fetch_card, make_client, user_message

DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 500 + "1" + "}" * 500
JSONRPC = {"content-type": "application/json", "A2A-Version": "1.0"}


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", ["/", "/agents/mei"])
async def test_deep_json_on_jsonrpc_routes_is_a_parse_error(
    podium: str, path: str, body: str
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{podium}{path}", content=body, headers=JSONRPC)
        assert answer.status_code == 200
        assert answer.json()["error"]["code"] == -32700
        assert "nested deeper" in answer.json()["error"]["message"]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", ["/stream", "/rooms", "/message:send", "/agents/mei/message:send"])
async def test_deep_json_elsewhere_is_a_400_that_says_why(
    podium: str, path: str, body: str
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{podium}{path}", content=body, headers=JSONRPC)
        assert answer.status_code == 400
        assert "nested deeper" in answer.json()["error"]["message"]
        assert (await http.get(f"{podium}/healthz")).status_code == 200  # and it goes on


async def test_brackets_inside_strings_are_not_nesting(podium: str) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        text = "[" * 500 + "{" * 500  # a client may well send such text
        answer = await http.post(f"{podium}/stream", json={"agent": "mei", "text": text})
        assert answer.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rounds", "x"),
        ("rounds", 2.5),
        ("rounds", 0),
        ("rounds", True),
        ("wpm", "fast"),
        ("wpm", -1),
        ("speakers", "mei"),
        ("speakers", [1, 2]),
        ("interruptions", "many"),
        ("debate", "yes"),
    ],
)
async def test_podium_metadata_of_the_wrong_type_is_invalid_params(
    podium: str, field: str, value: object
) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        for path in ("", "/agents/mei"):
            client = make_client(http, await fetch_card(http, f"{podium}{path}"), streaming=False)
            before = await client.list_tasks(pb.ListTasksRequest())
            bad = user_message("Trams?", podium={field: value})
            with pytest.raises(InvalidParamsError) as raised:
                await anext(aiter(client.send_message(bad)))
            assert f"metadata.podium.{field}" in str(raised.value)
            after = await client.list_tasks(pb.ListTasksRequest())
            assert len(after.tasks) == len(before.tasks), "nothing was stored"
        raw = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "SendMessage",
            "params": {
                "message": {
                    "messageId": "m1",
                    "role": "ROLE_USER",
                    "parts": [{"text": "Trams?"}],
                    "metadata": {"podium": {field: value}},
                }
            },
        }
        answer = await http.post(f"{podium}/", content=json.dumps(raw), headers=JSONRPC)
        assert answer.json()["error"]["code"] == -32602


async def test_debates_started_at_once_start_one_and_refuse_the_rest(podium: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        room = (await http.post(f"{podium}/rooms", json={"topic": "Trams"})).json()
        starts = [http.post(f"{podium}/rooms/{room['id']}/debate", json={}) for _ in range(10)]
        answers = await asyncio.gather(*starts)
        statuses = [r.status_code for r in answers]
        assert set(statuses) <= {202, 409} and 202 in statuses and 409 in statuses, statuses
        refused = next(r for r in answers if r.status_code == 409)
        assert "being started" in refused.json()["error"]["message"]
        info = (await http.get(f"{podium}/rooms/{room['id']}")).json()
        assert info["debate_task_id"]


NOT_UTF8 = (
    b'{"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": '
    b'{"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "\xff\xfe"}]}}}'
)


async def test_a_body_that_is_not_utf8_is_a_parse_error_everywhere(podium: str) -> None:
    async with httpx.AsyncClient() as http:
        for path in ("/", "/agents/mei"):
            answer = await http.post(f"{podium}{path}", content=NOT_UTF8, headers=JSONRPC)
            assert answer.status_code == 200 and answer.json()["error"]["code"] == -32700
            assert "not UTF-8" in answer.json()["error"]["message"]
        for path in ("/agents/mei/message:send", "/stream", "/rooms"):
            answer = await http.post(f"{podium}{path}", content=NOT_UTF8, headers=JSONRPC)
            assert answer.status_code == 400 and "not UTF-8" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/agents/mei/v1/message:stream", {}), ("/v1/message:stream", {})],
    ids=["debater", "moderator"],
)
async def test_a_refused_rest_stream_ends_with_an_error_event(
    podium: str, path: str, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{podium}{path}", json={"message": {}}, headers=headers)
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = [block for block in answer.text.split("\n\n") if block.strip()]
        assert events[-1].startswith("event: error\ndata: ")
        error = json.loads(events[-1].split("data: ", 1)[1])["error"]
        assert error["type"] == "InvalidParamsError"
        fields = {e["field"] for e in error["data"]["errors"]}
        assert "message.message_id" in fields


@pytest.mark.parametrize("path", ["ws", "audio"])
async def test_a_socket_to_an_unknown_room_is_closed_with_4404_and_the_reason(
    podium: str, path: str
) -> None:
    url = f"ws{podium.removeprefix('http')}/rooms/nope/{path}"
    async with websockets.connect(url) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404 and "unknown room" in closed.value.rcvd.reason


@pytest.mark.parametrize("length", [100, 10_000, 60_000])
async def test_a_long_name_on_a_socket_is_cut_not_a_hang(podium: str, length: int) -> None:
    async with httpx.AsyncClient() as http:
        room = (await http.post(f"{podium}/rooms", json={"topic": "Names"})).json()["id"]
    url = podium.replace("http", "ws") + f"/rooms/{room}/audio?role=listener&name={'n' * length}"
    async with asyncio.timeout(10), websockets.connect(url, max_size=None) as socket:
        joined = json.loads(await socket.recv())
    assert joined["type"] == "joined"
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{podium}/healthz")).status_code == 200
