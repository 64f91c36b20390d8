"""A fake Slack on 127.0.0.1: the Web API methods Parley calls, ``response_url``s, and a
Socket Mode websocket. It records what it receives (for assertions on the wire) and
checks Block Kit limits the way Slack does (``invalid_blocks``)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

BOT_USER = "UPARLEY"


@dataclass
class Received:
    path: str
    body: Any
    at: float


@dataclass
class FakeSlack:
    received: list[Received] = field(default_factory=list)
    socket_acks: list[dict] = field(default_factory=list)
    # Scripted faults: path prefix -> HTTP statuses to answer with, in order, before succeeding.
    faults: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeSlack:
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def serve() -> None:
            app = web.Application()
            app.router.add_get("/socket", self._socket)
            app.router.add_post("/api/{method}", self._api)
            app.router.add_post("/response/{id}", self._response_url)
            app.router.add_post("/upload/{id}", self._upload)
            self.runner = web.AppRunner(app)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]
            started.set()

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop)
        started.wait(10)
        self.api_base = f"http://127.0.0.1:{self.port}/api/"
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def response_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/response/{uuid.uuid4().hex}"

    def calls(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path or r.path.startswith(path)]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.calls(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count}x {path} within {timeout} s; got {[r.path for r in self.received]}")
            time.sleep(0.01)
        return self.calls(path)

    # -- Web API ---------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            body = json.loads(raw or "{}")
        else:
            body = {k: v[0] for k, v in parse_qs(raw).items()}
            for key in ("blocks",):
                if key in body:
                    body[key] = json.loads(body[key])
        self._record(f"/api/{method}", body)
        fault = self._fault(f"/api/{method}")
        if fault == 429:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
        if fault:
            return web.Response(status=fault, text="upstream error")
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://example.slack.com/", "team": "Example",
                                      "user": "parley", "team_id": "T1", "user_id": BOT_USER, "bot_id": "B1"})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": f"D{body.get('users')}"}})
        if method == "files.getUploadURLExternal":
            file_id = f"F{uuid.uuid4().hex[:8]}"
            return web.json_response({"ok": True, "file_id": file_id,
                                      "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"})
        if method == "files.completeUploadExternal":
            files = json.loads(body["files"]) if isinstance(body.get("files"), str) else body.get("files")
            return web.json_response({"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]})
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": f"{time.time():.6f}"})
        if method == "chat.postMessage":
            problem = blocks_problem(body.get("blocks") or [])
            if problem:
                return web.json_response({"ok": False, "error": "invalid_blocks", "detail": problem})
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(f"/response/{request.match_info['id']}", body)
        fault = self._fault("/response/")
        if fault:
            return web.Response(status=fault, text="expired_url")
        problem = blocks_problem(body.get("blocks") or [])
        if problem:
            return web.Response(status=400, text=f"invalid_blocks: {problem}")
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """A file's bytes, sent to the upload URL ``files.getUploadURLExternal`` gave out."""
        self._record(f"/upload/{request.match_info['id']}", await request.read())
        return web.Response(text="OK - uploaded")

    # -- Socket Mode -----------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket = ws
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            with self._lock:
                self.socket_acks.append({**json.loads(message.data), "_at": time.monotonic()})
        return ws

    def send_envelope(self, kind: str, payload: dict) -> str:
        """Deliver a request over the socket as Slack does; returns its envelope id."""
        envelope_id = uuid.uuid4().hex
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": kind == "slash_commands"}
        asyncio.run_coroutine_threadsafe(self.socket.send_str(json.dumps(envelope)), self.loop).result(10)
        return envelope_id

    def _fault(self, path: str) -> int | None:
        with self._lock:
            for prefix, statuses in self.faults.items():
                if path.startswith(prefix) and statuses:
                    return statuses.pop(0)
        return None

    def _record(self, path: str, body: Any) -> None:
        with self._lock:
            self.received.append(Received(path, body, time.monotonic()))


def blocks_problem(blocks: list[dict]) -> str | None:
    """Slack's documented Block Kit limits."""
    if len(blocks) > 50:
        return "more than 50 blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section" and len(text) > 3000:
            return "section text over 3000"
        if block["type"] == "header" and len(text) > 150:
            return "header over 150"
        if block["type"] == "context" and len(block.get("elements", [])) > 10:
            return "context over 10 elements"
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            problem = _select_problem(element) if element.get("type") == "static_select" else None
            if problem:
                return problem
    return None


def _select_problem(select: dict) -> str | None:
    """A static select's documented limits: 100 options, 75 characters of option text,
    150 of value and of placeholder."""
    options = select.get("options") or []
    if not options or len(options) > 100:
        return "static_select without options or over 100"
    if len((select.get("placeholder") or {}).get("text", "")) > 150:
        return "placeholder over 150"
    for option in options:
        if len(option["text"]["text"]) > 75 or len(option["value"]) > 150:
            return "option text over 75 or value over 150"
    return None
