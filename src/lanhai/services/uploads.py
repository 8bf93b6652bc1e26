"""Files sent with a request: received into the bank's uploads folder, read by a service,
removed when the request (or the job reading them) is done. They are held by the serving
process while in use, so those of a server that was killed are removed at the next upload
(or by `lanhai clean`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lanhai.model import Upload
from lanhai.services.access import Actor
from lanhai.store.uploads import UploadStore


class UploadService:
    """Where a request's files go while services read them."""

    def __init__(self, store: UploadStore) -> None:
        self.store = store

    @contextmanager
    def receive(self, actor: Actor, filename: str | None, purpose: str) -> Iterator[Upload]:
        """Room for one request's upload (the caller writes ``upload.path``, or several
        files into ``upload.folder``), removed when the block ends."""
        upload = self.store.new(filename, {"owner": actor.username, "purpose": purpose},
                                hold=True)
        try:
            yield upload
        finally:
            self.store.remove(upload.id)

    def keep(self, actor: Actor, filename: str | None, purpose: str) -> Upload:
        """Room for an upload a later request or a background job reads; the reader
        removes it with :meth:`discard`."""
        return self.store.new(filename, {"owner": actor.username, "purpose": purpose},
                              hold=True)

    def discard(self, upload: Upload) -> None:
        self.store.remove(upload.id)
