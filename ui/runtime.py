"""What the Chainlit app needs from the process that mounts it: settings, the assistant, users.

Chainlit loads ``ui/app.py`` as a module of its own, so objects cannot be passed as arguments:
``mount_ui`` stores them here before Chainlit loads the app, and the handlers read them here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings


@dataclass
class UIRuntime:
    settings: Settings
    assistant: Assistant | None
    startup_error: str | None = None
    # Login name -> password. Empty: no login (then no chat history either; feedback still saved).
    users: dict[str, str] = field(default_factory=dict)
    db_path: Path | None = None


_runtime: UIRuntime | None = None


def configure(runtime: UIRuntime) -> None:
    global _runtime
    _runtime = runtime


def get() -> UIRuntime:
    if _runtime is None:
        raise RuntimeError("the chat UI is not configured: call ui.mount.mount_ui(app, settings, assistant)")
    return _runtime
