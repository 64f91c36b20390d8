"""A fake Discord on 127.0.0.1: REST and gateway, enough for the real discord.py client.

It enforces what real Discord enforces and the adapter must respect: message and embed
limits (400, code 50035), the 3-second deadline for an interaction's first response
(404, code 10062), and it records every request so tests assert on bytes on the wire.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

BOT_ID = 900000000000000001
GUILD_ID = 910000000000000001
CHANNEL_ID = 920000000000000001
ADMIN_ROLE_ID = 930000000000000001
# A role with the admin role's name, made by a member with Manage Roles: it must grant nothing.
IMPOSTOR_ROLE_ID = 930000000000000002
ADMINISTER = 1 << 5  # Manage Server
PLAIN_PERMISSIONS = (1 << 10) | (1 << 11)  # view channel, send messages

LIMITS = {"content": 2000, "title": 256, "description": 4096, "fields": 25, "field_name": 256,
          "field_value": 1024, "footer": 2048, "embeds": 10, "total": 6000}


@dataclass
class Request:
    method: str
    path: str
    body: Any
    at: float


@dataclass
class FakeDiscord:
    requests: list[Request] = field(default_factory=list)
    interactions: dict[str, float] = field(default_factory=dict)  # token -> dispatched at
    interaction_ids: dict[str, tuple[str, int]] = field(default_factory=dict)  # token -> (id, type)
    threads: list[str] = field(default_factory=list)
    # Scripted faults: path fragment -> HTTP statuses to answer with, in order, first.
    faults: dict[str, list[int]] = field(default_factory=dict)
    connections: int = 0
    recommended_shards: int = 1  # what GET /gateway/bot tells an auto-sharded client
    identifies: list[dict] = field(default_factory=list)  # every IDENTIFY payload, in order
    shards: dict[int, web.WebSocketResponse] = field(default_factory=dict)  # shard id -> its connection
    _ids: itertools.count = field(default_factory=lambda: itertools.count(950000000000000001))
    _ws: web.WebSocketResponse | None = None
    _sequence: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._runner.cleanup()

    # -- what tests do ---------------------------------------------------------------
    def new_id(self) -> str:
        return str(next(self._ids))

    async def slash(self, name: str, options: dict[str, Any] | None = None, *, user_id: int = 1001,
                    permissions: int = PLAIN_PERMISSIONS, roles: list[int] | None = None) -> str:
        """A member runs a slash command; returns the interaction token."""
        token = f"token-{self.new_id()}"
        data = {"id": self.new_id(), "name": name, "type": 1,
                "options": [{"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v}
                            for k, v in (options or {}).items()]}
        await self._interaction(2, token, data, user_id, permissions, roles or [])
        return token

    async def click(self, custom_id: str, components: list[dict], *, user_id: int = 1001,
                    values: list[str] | None = None, permissions: int = PLAIN_PERMISSIONS,
                    roles: list[int] | None = None) -> str:
        """A user clicks a component of a message that carries ``components`` (as sent)."""
        token = f"token-{self.new_id()}"
        data = {"custom_id": custom_id, "component_type": 3 if values else 2}
        if values:
            data["values"] = values
        message = self.message_json(CHANNEL_ID, {"content": "", "components": components})
        await self._interaction(3, token, data, user_id, permissions, roles or [], message=message)
        return token

    async def post_message(self, content: str, *, channel_id: int = CHANNEL_ID, user_id: int = 1001,
                           mentions_bot: bool = False) -> str:
        message = self.message_json(channel_id, {"content": content}, author=self.user(user_id))
        message["guild_id"] = str(GUILD_ID)
        message["member"] = {"roles": [], "joined_at": _now(), "deaf": False, "mute": False, "flags": 0}
        if mentions_bot:
            message["mentions"] = [{**self.user(BOT_ID, bot=True), "member": {"roles": [], "joined_at": _now(), "flags": 0}}]
        await self.dispatch("MESSAGE_CREATE", message)
        return message["id"]

    def sent(self, method: str, fragment: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and fragment in r.path]

    async def wait_for(self, method: str, fragment: str, count: int = 1, timeout: float = 30) -> list[Request]:
        deadline = time.monotonic() + timeout
        while len(self.sent(method, fragment)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} {fragment} within {timeout} s; got {[(r.method, r.path) for r in self.requests]}")
            await asyncio.sleep(0.01)
        return self.sent(method, fragment)

    # -- payloads --------------------------------------------------------------------
    @staticmethod
    def user(user_id: int, *, bot: bool = False) -> dict:
        return {"id": str(user_id), "username": "parley" if bot else f"user{user_id}", "discriminator": "0",
                "global_name": None, "avatar": None, "bot": bot}

    def message_json(self, channel_id: int | str, body: dict, *, author: dict | None = None) -> dict:
        return {"id": self.new_id(), "channel_id": str(channel_id), "author": author or self.user(BOT_ID, bot=True),
                "content": body.get("content") or "", "timestamp": _now(), "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": body.get("flags", 0),
                "components": body.get("components") or []}

    async def _interaction(self, kind: int, token: str, data: dict, user_id: int, permissions: int,
                           roles: list[int], message: dict | None = None) -> None:
        payload = {
            "id": self.new_id(), "application_id": str(BOT_ID), "type": kind, "token": token, "version": 1,
            "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general",
                        "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": {"user": self.user(user_id), "roles": [str(r) for r in roles], "joined_at": _now(),
                       "deaf": False, "mute": False, "permissions": str(permissions), "flags": 0},
            "data": data, "locale": "en-US", "guild_locale": "en-US", "app_permissions": str((1 << 41) - 1),
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message:
            payload["message"] = message
        self.interactions[token] = time.monotonic()
        self.interaction_ids[token] = (payload["id"], kind)
        await self.dispatch("INTERACTION_CREATE", payload)

    # -- gateway ---------------------------------------------------------------------
    async def dispatch(self, event: str, data: dict, *, shard: int | None = None) -> None:
        """Send ``event`` on the connection of ``shard``, by default the guild's shard,
        as Discord does: an event reaches only the shard its guild belongs to."""
        if shard is None:
            shard = self.shard_of(int(data.get("guild_id") or GUILD_ID))
        ws = self.shards.get(shard, self._ws)
        assert ws is not None, "the bot is not connected"
        self._sequence += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._sequence, "d": data}))

    def shard_of(self, guild_id: int) -> int:
        """Discord's rule: (guild_id >> 22) % shard_count."""
        count = self.identifies[-1].get("shard", [0, 1])[1] if self.identifies else 1
        return (guild_id >> 22) % count

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.connections += 1
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 2:  # IDENTIFY
                self.identify = payload["d"]
                self.identifies.append(payload["d"])
                shard, count = payload["d"].get("shard", [0, 1])
                self.shards[shard] = ws
                owns_guild = (GUILD_ID >> 22) % count == shard
                await self.dispatch("READY", {
                    "v": 10, "user": self.user(BOT_ID, bot=True), "shard": [shard, count],
                    "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if owns_guild else [],
                    "session_id": f"fake-session-{shard}", "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                    "application": {"id": str(BOT_ID), "flags": 0}, "private_channels": [], "relationships": []},
                    shard=shard)
                if owns_guild:
                    await self.dispatch("GUILD_CREATE", self._guild(), shard=shard)
                self.ready.set()
            elif payload["op"] == 6:  # RESUME after a dropped connection
                self.resumed = payload["d"]
                shard = int(payload["d"]["session_id"].rsplit("-", 1)[1])
                self.shards[shard] = ws
                await self.dispatch("RESUMED", {}, shard=shard)
            elif payload["op"] == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11}))
        return ws

    def _guild(self) -> dict:
        return {
            "id": str(GUILD_ID), "name": "Test server", "unavailable": False, "owner_id": "1", "member_count": 3,
            "large": False, "features": [], "emojis": [], "stickers": [], "threads": [], "voice_states": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [], "icon": None,
            "channels": [{"id": str(CHANNEL_ID), "type": 0, "name": "general", "position": 0,
                          "permission_overwrites": [], "nsfw": False, "parent_id": None, "guild_id": str(GUILD_ID)}],
            "roles": [
                {"id": str(GUILD_ID), "name": "@everyone", "permissions": str(PLAIN_PERMISSIONS), "position": 0,
                 "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0},
                {"id": str(ADMIN_ROLE_ID), "name": "Parley admins", "permissions": str(PLAIN_PERMISSIONS),
                 "position": 1, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0},
                {"id": str(IMPOSTOR_ROLE_ID), "name": "Parley admins", "permissions": str(PLAIN_PERMISSIONS),
                 "position": 2, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0},
            ],
            "members": [{"user": self.user(BOT_ID, bot=True), "roles": [], "joined_at": _now(), "deaf": False, "mute": False, "flags": 0}],
        }

    async def drop_gateway(self) -> None:
        """Close the gateway as Discord does on a server-side error (resumable code)."""
        await self._ws.close(code=4000, message=b"unknown error")

    # -- REST ------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await _body(request)
        self.requests.append(Request(request.method, path, body, time.monotonic()))
        method = request.method
        for fragment, statuses in self.faults.items():
            if fragment in path and statuses:
                status = statuses.pop(0)
                if status == 429:  # discord.py trusts a 429 only with Discord's Via header
                    return web.Response(body=json.dumps({"message": "You are being rate limited.", "retry_after": 0.3,
                                                         "global": False}).encode(), status=429,
                                        headers={"Content-Type": "application/json", "Via": "1.1 google",
                                                 "Retry-After": "1"})
                return _json({"message": "Server error", "code": 0}, status=status)
        if path == "/gateway/bot":
            return _json({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": self.recommended_shards,
                          "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                                  "max_concurrency": 1}})
        if path == "/users/@me":
            return _json(self.user(BOT_ID, bot=True))
        if path == "/oauth2/applications/@me":
            return _json({"id": str(BOT_ID), "name": "Parley", "icon": None, "description": "", "rpc_origins": [],
                          "bot_public": True, "bot_require_code_grant": False, "owner": self.user(1),
                          "summary": "", "verify_key": "0" * 64, "team": None, "flags": 0})
        if method == "PUT" and path.endswith("/commands"):
            return _json([{**command, "id": self.new_id(), "application_id": str(BOT_ID), "version": "1",
                           "default_member_permissions": command.get("default_member_permissions")}
                          for command in body])
        if method == "POST" and path.startswith("/interactions/"):
            token = path.split("/")[3]
            if time.monotonic() - self.interactions.get(token, 0) > 3.0:
                return _json({"message": "Unknown interaction", "code": 10062}, status=404)
            problems = message_problems(body.get("data") or {})
            if problems:
                return _json(_invalid(problems), status=400)
            interaction_id, kind = self.interaction_ids[token]
            flags = (body.get("data") or {}).get("flags", 0)
            resource = {"type": body["type"]}
            if body["type"] == 4:
                resource["message"] = self.message_json(CHANNEL_ID, body.get("data") or {})
            # What Discord returns for ?with_response=true (discord.py asks for it).
            return _json({"interaction": {"id": interaction_id, "type": kind,
                                          "response_message_loading": body["type"] == 5,
                                          "response_message_ephemeral": bool(flags & 64)},
                          "resource": resource})
        if method == "POST" and (path.startswith("/webhooks/") or (path.startswith("/channels/") and path.endswith("/messages"))):
            problems = message_problems(body)
            if problems:
                return _json(_invalid(problems), status=400)
            channel = path.split("/")[2] if path.startswith("/channels/") else CHANNEL_ID
            return _json(self.message_json(channel, body))
        if method == "PATCH" and path.startswith("/webhooks/"):
            return _json(self.message_json(CHANNEL_ID, body))
        if method == "POST" and path.endswith("/threads"):
            thread_id = self.new_id()
            self.threads.append(thread_id)
            thread = {"id": thread_id, "type": 11, "guild_id": str(GUILD_ID), "parent_id": path.split("/")[2],
                      "owner_id": str(BOT_ID), "name": body["name"], "message_count": 0, "member_count": 1,
                      "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
                      "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                          "archive_timestamp": _now(), "locked": False}}
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            return _json(thread)
        return _json({"message": f"fake Discord has no {method} {path}", "code": 0}, status=404)


async def _body(request: web.Request) -> Any:
    """JSON, or (with attachments) multipart: ``payload_json`` plus the files, which land in
    the body's ``_files`` as {"filename", "bytes"} (discord.py sends files that way)."""
    if not request.can_read_body:
        return None
    if request.content_type != "multipart/form-data":
        return await request.json()
    body: dict[str, Any] = {"_files": []}
    reader = await request.multipart()
    async for part in reader:
        if part.name == "payload_json":
            body.update(json.loads(await part.text()))
        else:
            body["_files"].append({"filename": part.filename, "bytes": bytes(await part.read())})
    return body


def message_problems(body: dict) -> list[str]:
    """Discord's documented message limits."""
    problems = []
    if len(body.get("content") or "") > LIMITS["content"]:
        problems.append("content")
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append("embeds")
    total = 0
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        footer = (embed.get("footer") or {}).get("text") or ""
        fields = embed.get("fields") or []
        if len(title) > LIMITS["title"] or len(description) > LIMITS["description"] or len(footer) > LIMITS["footer"]:
            problems.append("embed text")
        if len(fields) > LIMITS["fields"]:
            problems.append("fields")
        for item in fields:
            if len(item["name"]) > LIMITS["field_name"] or len(item["value"]) > LIMITS["field_value"] or not item["value"]:
                problems.append("field")
        total += len(title) + len(description) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    if total > LIMITS["total"]:
        problems.append("total")
    return problems


def _invalid(problems: list[str]) -> dict:
    return {"message": "Invalid Form Body", "code": 50035, "errors": {p: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]} for p in problems}}


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py compares the header verbatim: no "; charset=utf-8".
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _now() -> str:
    return datetime.now(UTC).isoformat()
