"""Attachments of grant applications: photos (JPEG, PNG) and scans (PDF).

- The type is decided by the file's first bytes, never by its name or the browser's claim.
- The size is limited while reading (GRANT_ATTACHMENT_MAX_BYTES); a larger file is not kept.
- Files are stored under instance/uploads/grants/ with generated names; the original name is kept
  only in the database, for the download's Content-Disposition.
- They are served only by the scoped view, as downloads, with nosniff and a sandboxing CSP.
"""
import os
import secrets
import unicodedata
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import gettext as _

CHUNK = 64 * 1024
# (magic bytes at the start, MIME type, extension)
SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
]


class Rejected(ValueError):
    """The upload is refused; `message` says why, in Polish."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def upload_dir() -> Path:
    configured = current_app.config.get("GRANT_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "grants"


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def clean_name(name: str | None) -> str:
    """The original file name without any path, control characters or surrounding dots, at most 200 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:200] or "plik"


def store(upload) -> tuple[str, str, int, str]:
    """Check and keep an uploaded file; (stored name, MIME type, size, original name). Raises Rejected."""
    if upload is None or not getattr(upload, "filename", None):
        raise Rejected(_("Wybierz plik."))
    limit = int(current_app.config["GRANT_ATTACHMENT_MAX_BYTES"])
    stream = upload.stream
    head = stream.read(16)
    if not head:
        raise Rejected(_("Plik jest pusty."))
    kind = sniff(head)
    if kind is None:
        raise Rejected(_("Dozwolone są tylko zdjęcia JPEG i PNG oraz skany PDF."))
    mime, ext = kind
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = f"{secrets.token_hex(16)}.{ext}"
    path = folder / stored
    size = len(head)
    try:
        with open(path, "xb") as out:
            out.write(head)
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise Rejected(_("Plik jest za duży: najwyżej %(mb)d MB.", mb=limit // (1024 * 1024)))
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)
    return stored, mime, size, clean_name(upload.filename)


def discard(stored_name: str) -> None:
    """Remove a stored file (when the database write that would have recorded it failed)."""
    (upload_dir() / Path(stored_name).name).unlink(missing_ok=True)


def send(attachment):
    """The file as a download: its own type, never sniffed, never run as a page."""
    path = upload_dir() / Path(attachment.stored_name).name
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.original_name, conditional=False, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "no-store"
    return resp
