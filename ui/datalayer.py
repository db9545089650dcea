"""Chainlit's SQLAlchemy data layer over a local SQLite file, without a blob store.

Two small adaptations for SQLite: lists and dicts are stored as JSON text (and read back as
objects), and element contents (our source passages: a few kB of markdown) are kept in the
``elements.url`` column as ``data:`` URLs, which the browser fetches like any URL. So sources
survive a restart without S3/Azure/GCS. Import only after ``ui.mount`` has pointed Chainlit at ui/.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient


class InlineStorage(BaseStorageClient):
    """Stores an element's bytes in its own URL (``data:<mime>;base64,...``)."""

    async def upload_file(self, object_key: str, data: bytes | str, mime: str = "application/octet-stream",
                          overwrite: bool = True, content_disposition: str | None = None) -> dict[str, Any]:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if mime.startswith("text/") and "charset" not in mime:
            mime += ";charset=utf-8"
        # No object key: the data layer then keeps and serves the stored URL itself.
        return {"url": f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"}

    async def delete_file(self, object_key: str) -> bool:
        return True

    async def get_read_url(self, object_key: str) -> str:
        return object_key

    async def close(self) -> None:
        return None


def _loads(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return default
    return default if value is None else value


class SQLiteDataLayer(SQLAlchemyDataLayer):
    def __init__(self, conninfo: str):
        super().__init__(conninfo=conninfo, storage_provider=InlineStorage())

    async def execute_sql(self, query: str, parameters: dict) -> list[dict[str, Any]] | int | None:
        parameters = {
            key: json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value
            for key, value in parameters.items()
        }
        return await super().execute_sql(query, parameters)

    async def get_all_user_threads(self, user_id: str | None = None, thread_id: str | None = None):
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            thread["metadata"] = _loads(thread.get("metadata"), {})
            thread["tags"] = _loads(thread.get("tags"), [])
            for step in thread.get("steps", []):
                step["metadata"] = _loads(step.get("metadata"), {})
                step["tags"] = _loads(step.get("tags"), None)
                step["generation"] = _loads(step.get("generation"), None)
            for element in thread.get("elements", []):
                element["props"] = _loads(element.get("props"), {})
        return threads
