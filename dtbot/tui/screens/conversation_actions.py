"""Delete, export and continue-in-chat for a conversation: shared by the list and the message view."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dtbot.services.conversations import ConversationOut
from dtbot.services.export import all_messages, render
from dtbot.tui.screens.base import DashboardScreen
from dtbot.tui.screens.confirm import ConfirmScreen
from dtbot.tui.screens.export import ExportChoice, ExportScreen


class ConversationActions(DashboardScreen):
    """A screen that acts on one conversation at a time."""

    def ask_delete(self, conversation: ConversationOut, done: Callable[[], object]) -> None:
        """Confirm, delete, then call `done`."""
        name = conversation.title or conversation.conversation_id
        question = f"Delete “{name}” and its {conversation.message_count} messages? This cannot be undone."

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._delete(conversation, done), group="conversation", exit_on_error=False)

        self.app.push_screen(ConfirmScreen("Delete conversation", question), answered)

    async def _delete(self, conversation: ConversationOut, done: Callable[[], object]) -> None:
        await self.runtime.conversations.delete(conversation.conversation_id, None)
        self.notify(f"deleted {conversation.title or conversation.conversation_id}")
        done()

    def ask_export(self, conversation_id: str) -> None:
        """Ask for a format and a file, then write it."""

        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                self.run_worker(self._export(conversation_id, choice), group="conversation", exit_on_error=False)

        self.app.push_screen(ExportScreen(conversation_id), chosen)

    async def _export(self, conversation_id: str, choice: ExportChoice) -> None:
        text = render(await all_messages(self.runtime.conversations, conversation_id, None), choice.form)
        try:
            await asyncio.to_thread(choice.path.write_text, text, encoding="utf-8")
        except OSError as error:
            self.notify(f"cannot write {choice.path}: {error.strerror or error}", severity="error")
            return
        self.notify(f"exported to {choice.path.resolve()}", title="export")

    def continue_in_chat(self, conversation: ConversationOut) -> None:
        """Open the Chat tab inside this conversation."""
        self.run_worker(self.dashboard.continue_chat(conversation), exit_on_error=False)
