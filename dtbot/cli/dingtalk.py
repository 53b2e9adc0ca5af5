"""`dtbot dingtalk`: send messages, simulate a callback against a running server, read the inbox."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from dtbot.cli.common import ConfigOption, JsonOption, config_from, emit_json, fail, friendly, out, with_runtime
from dtbot.services.dingtalk.inbox import ANSWERED, FAILED, STATUSES, InboxEntry
from dtbot.services.dingtalk.simulate import signed_headers, simulated_callback

app = typer.Typer(help="The DingTalk robot: send, simulate, inbox.", no_args_is_help=True)
SIMULATED_SESSION = "https://oapi.dingtalk.com/robot/sendBySession?session=dtbot-simulated-"


@app.command("send")
@friendly
def send(
    text: Annotated[str, typer.Argument(help="The message (Markdown with --title).")],
    session_webhook: Annotated[str | None, typer.Option(help="A message's sessionWebhook.")] = None,
    webhook: Annotated[str | None, typer.Option(help="A custom group robot's webhook URL.")] = None,
    secret: Annotated[str | None, typer.Option(help="The custom robot's SEC… secret, for signing.")] = None,
    user: Annotated[list[str] | None, typer.Option("--user", help="A staff id (OpenAPI); repeat for more.")] = None,
    group: Annotated[str | None, typer.Option(help="A group's openConversationId (OpenAPI).")] = None,
    title: Annotated[str | None, typer.Option(help="Send as Markdown with this title.")] = None,
    at: Annotated[list[str] | None, typer.Option("--at", help="@ this staff id; repeat for more.")] = None,
    at_all: Annotated[bool, typer.Option(help="@ everyone.")] = False,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Send one message to one target, as POST /api/dingtalk/send does."""
    payload: dict[str, Any] = (
        {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        if title
        else {"msgtype": "text", "text": {"content": text}}
    )
    payload["at"] = {"atUserIds": at or [], "isAtAll": at_all}
    targets = {"sessionWebhook": session_webhook, "webhook": webhook, "userIds": user, "openConversationId": group}
    payload |= {name: value for name, value in targets.items() if value}
    if secret:
        payload["secret"] = secret
    result = with_runtime(config_from(config), lambda rt: rt.sender.send(payload))
    if json:
        emit_json(result)
    else:
        out.print(f"Sent ({result.message_id}).")


@app.command("simulate")
@friendly
def simulate(
    text: Annotated[str, typer.Argument(help="What the simulated person says.")],
    group: Annotated[bool, typer.Option("--group", help="As a group message that @s the robot.")] = False,
    sender: Annotated[str, typer.Option(help="The sender's staff id.")] = "simulated-user",
    url: Annotated[str, typer.Option(help="The running server.")] = "http://127.0.0.1:3000",
    session_webhook: Annotated[
        str | None, typer.Option(help="Where the robot should reply [default: a DingTalk URL that will refuse].")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 60.0,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Post a correctly signed callback to a running server and print what the robot answered."""
    cfg = config_from(config)
    if not cfg.dingtalk.app_secret:
        fail("set DINGTALK_APP_SECRET (the server's) to sign the callback", 2)
    hook = session_webhook or SIMULATED_SESSION + secrets.token_hex(4)
    payload = simulated_callback(text, group=group, sender=sender, session_webhook=hook)
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/api/dingtalk/webhook",
            json=payload,
            headers=signed_headers(cfg.dingtalk.app_secret),
            timeout=30,
        )
    except httpx.HTTPError as error:
        fail(f"cannot reach {url}: {error}")
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200:
        fail(f"the server refused the callback: HTTP {response.status_code} {body.get('message', response.text)}")
    quick = body.get("data") or {}
    entry = _wait_for(cfg, payload["msgId"], wait)
    if json:
        emit_json({"callbackAnswer": quick, "inbox": entry})
        return
    if entry is None or entry.status not in (ANSWERED, FAILED):
        fail(f"no answer within {wait:g}s (status: {entry.status if entry else 'not stored'})")
    out.print(entry.reply or "", highlight=False)
    via = "in the callback's answer" if entry.delivered_via == "callback" else f"via {entry.delivered_via}"
    outcome = f"delivered {via}" if entry.status == ANSWERED else f"not delivered: {entry.error}"
    out.print(f"[dim]{entry.status}, {outcome}[/dim]", highlight=False)


def _wait_for(cfg: Any, msg_id: str, seconds: float) -> InboxEntry | None:
    async def poll(rt: Any) -> InboxEntry | None:
        deadline = time.monotonic() + seconds
        while True:
            entry = await rt.inbox.by_msg_id(msg_id)
            if (entry and entry.status in (ANSWERED, FAILED)) or time.monotonic() > deadline:
                return entry
            await asyncio.sleep(0.2)

    return with_runtime(cfg, poll)


@app.command("inbox")
@friendly
def inbox(
    status: Annotated[str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)}.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Recent messages the robot received and their delivery state."""
    if status is not None and status not in STATUSES:
        fail(f"--status must be one of {', '.join(STATUSES)}", 2)
    entries = with_runtime(config_from(config), lambda rt: rt.inbox.recent(status=status, limit=limit))
    if json:
        emit_json(entries)
        return
    table = Table("received", "sender", "text", "status", "via", "reply")
    for e in entries:
        table.add_row(
            e.created_at.strftime("%m-%d %H:%M:%S"),
            e.sender_nick or e.sender_id,
            e.text[:40],
            e.status,
            e.delivered_via or (e.error or "")[:30],
            (e.reply or "")[:40],
        )
    out.print(table if entries else "No messages.")
