"""Writing files so that a reader never sees half of one: the zoo's weights and sidecars, a sweep's
finished units and the chapters' claim records all go through ``write_atomic``.

The bytes go to a uniquely named temporary file beside the target (same folder, so the same file
system), are flushed to disk, and the temporary file is renamed over the target with
``os.replace`` — atomic on POSIX and Windows. A failure at any point removes the temporary file
and leaves the target as it was. Concurrent writers of one target each rename a complete file;
the last one wins.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomic(path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically: a reader sees the old file or the whole new one.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Its folder must exist (callers check their folders before any work).
    data : bytes or str
        The content; a str is encoded with ``encoding``.
    encoding : str, optional
        The encoding of a str ``data``, UTF-8 by default.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        When ``data`` is neither bytes nor str.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"data must be bytes or str, got {type(data).__name__}")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
