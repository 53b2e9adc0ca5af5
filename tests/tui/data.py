"""Fixed data for the dashboard's tests: every id, time and number the same on every run.

All times are relative to `NOW` (noon in Shanghai, the default zone), which the
snapshot tests freeze the clock at. Usage records go in through the usage
service; rows whose ids the service would make random (conversations,
messages, keys, DingTalk messages) are written to the store directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dtbot.services.runtime import Runtime
from dtbot.services.usage import STATUS_ERROR, UsageEntry
from dtbot.store.models import ApiKey, Conversation, InboxMessage, Message

NOW = datetime(2025, 7, 1, 4, 0, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai

USERS = ("zhangsan", "lisi", "wangwu", "zhaoliu")
MODELS = ("gpt-4", "glm-4", "qwen-turbo", "claude-3-sonnet")
TITLES = (
    "季度报表总结",
    "Deploy checklist for Friday",
    "Python asyncio question",
    "翻译：产品介绍",
    "SQL index advice",
    "周报模板",
    "Kubernetes liveness probes",
    "客户邮件回复",
    "Regex for phone numbers",
    "会议纪要整理",
    "Explain Redis streams",
    "Onboarding FAQ",
)
CONVERSATIONS = 26  # more than a page of 20
FIRST = "conv_fixture_00"
ANSWER = """## 季度报表总结

Revenue grew **12%** over the quarter:

- 华东: +18%
- 华南: +9%
- online: +25%

```sql
SELECT region, SUM(amount) FROM orders GROUP BY region;
```
"""


def conversation_id(index: int) -> str:
    return f"conv_fixture_{index:02d}"


def conversations() -> list[Conversation]:
    rows = []
    for index in range(CONVERSATIONS):
        updated = NOW - timedelta(minutes=17 * index + 3)
        messages = 2 + (index * 5) % 9
        rows.append(
            Conversation(
                id=conversation_id(index),
                owner_key_id=None,
                user_id=USERS[index % len(USERS)],
                title=TITLES[index % len(TITLES)] + ("" if index < len(TITLES) else f" ({index // len(TITLES) + 1})"),
                model=MODELS[index % len(MODELS)],
                system_prompt="You are a concise finance assistant." if index == 0 else "",
                source="api",
                message_count=messages if index else 2,
                token_usage=messages * 137 + index if index else 236,
                created_at=updated - timedelta(hours=2),
                updated_at=updated,
            )
        )
    return rows


def first_messages() -> list[Message]:
    at = NOW - timedelta(minutes=4)
    return [
        Message(
            id="msg_fixture_01",
            conversation_id=FIRST,
            role="user",
            content="请总结一下本季度的报表 (summarise this quarter's report)",
            tokens=24,
            created_at=at,
        ),
        Message(
            id="msg_fixture_02",
            conversation_id=FIRST,
            role="assistant",
            content=ANSWER,
            tokens=212,
            created_at=at + timedelta(seconds=9),
        ),
    ]


def keys() -> list[ApiKey]:
    def key(number: int, name: str, role: str, *, used: bool = False, revoked: bool = False) -> ApiKey:
        created = NOW - timedelta(days=30 - number * 7)
        return ApiKey(
            id=f"key_fixture_{number}",
            name=name,
            role=role,
            key_hash=f"{number:064x}",
            key_prefix=f"dtb_fixed{number}ab",
            created_at=created,
            last_used_at=NOW - timedelta(minutes=5 * number) if used else None,
            revoked_at=created + timedelta(days=2) if revoked else None,
        )

    return [
        key(1, "ops-admin", "admin", used=True),
        key(2, "ci-bot", "user", used=True),
        key(3, "old-laptop", "user", revoked=True),
    ]


def usage() -> list[UsageEntry]:
    """An hour of traffic shaped like a morning ramp, a few failures, and older calls from yesterday."""
    entries = []
    for minute in range(60):
        calls = 1 + (minute * 7) % 5 + minute // 12
        for call in range(calls):
            index = minute * 11 + call
            model = MODELS[0] if index % 10 < 5 else MODELS[1] if index % 10 < 8 else MODELS[2]
            failed = index % 37 == 0
            entries.append(
                UsageEntry(
                    model=model,
                    provider={"gpt-4": "openai", "glm-4": "zhipu", "qwen-turbo": "dashscope"}[model],
                    status=STATUS_ERROR if failed else "ok",
                    error_code=50001 if failed else None,
                    user_id=USERS[index % len(USERS)],
                    source=("api", "dingtalk", "cli")[index % 3],
                    stream=index % 2 == 0,
                    prompt_tokens=0 if failed else 40 + index % 90,
                    completion_tokens=0 if failed else 60 + (index * 13) % 400,
                    latency_ms=300.0 + (index * 37) % 2500,
                    ttft_ms=None if index % 2 else 120.0 + index % 300,
                    request_id=f"req_{minute:02d}{call:02d}",
                    created_at=NOW - timedelta(minutes=59 - minute) + timedelta(seconds=2 + call * 5),
                )
            )
    for hours in range(3):
        entries.append(
            UsageEntry(
                model=MODELS[3],
                provider="anthropic",
                user_id="yesterday",
                prompt_tokens=500,
                completion_tokens=700,
                created_at=NOW - timedelta(days=1, hours=hours),
            )
        )
    return entries


def inbox() -> list[InboxMessage]:
    def message(number: int, text: str, status: str, reply: str | None, via: str | None) -> InboxMessage:
        at = NOW - timedelta(minutes=3 * number + 1)
        return InboxMessage(
            id=f"in_fixture_{number}",
            msg_id=f"msg-dingtalk-{number}",
            chat_id="cid-group-1",
            chat_type="2",
            sender_id=f"staff{number}",
            sender_nick=("张三", "李四", "王五")[number % 3],
            text=text,
            payload={},
            status=status,
            attempts=1,
            reply=reply,
            delivered_via=via,
            created_at=at,
            updated_at=at + timedelta(seconds=4),
        )

    return [
        message(1, "明天的会议几点开始？", "answered", "明天上午十点，在三楼会议室。", "session_webhook"),
        message(2, "/usage", "answered", "今日已用 1,204 tokens。", "session_webhook"),
        message(3, "帮我写一封请假邮件", "processing", None, None),
    ]


async def seed(runtime: Runtime) -> None:
    """Write the fixed data through `runtime`."""
    async with runtime.db.session() as session:
        session.add_all([*conversations(), *keys(), *inbox()])
        await session.flush()
        session.add_all(first_messages())
        await session.commit()
    await runtime.usage.record(usage())
