"""A content-addressed file store: a file's name is the sha256 of its bytes.

Files are written once (to a temporary name, then moved into place atomically) and never
overwritten; every read re-hashes the bytes, so a file changed on disk is reported, not served.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from xinren.documents.model import check_digest
from xinren.errors import NotFound, XinrenError

DEFAULT_DIR = "xinren-documents"


class TamperedDocument(XinrenError):
    status = 500
    slug = "tampered-document"
    title = "A stored document no longer matches its hash"


def default_root() -> Path:
    """`XINREN_DOCUMENT_DIR`, or ./xinren-documents."""
    return Path(os.environ.get("XINREN_DOCUMENT_DIR") or Path.cwd() / DEFAULT_DIR)


class FileStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    def path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, content: bytes) -> str:
        """Store `content`; returns its sha256. Storing the same bytes again changes nothing."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if target.exists():
            self.get(digest)  # an existing file must still be intact
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o444)
            # link() fails if another writer got there first: a stored file is never overwritten
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
        finally:
            os.unlink(tmp)
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`, re-hashed on every read."""
        target = self.path(digest)
        try:
            content = target.read_bytes()
        except FileNotFoundError as err:
            raise NotFound(f"no stored document {digest}", field="sha256") from err
        if hashlib.sha256(content).hexdigest() != digest:
            raise TamperedDocument(f"document {digest} was changed on disk ({target})")
        return content
