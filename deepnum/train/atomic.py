"""Files replaced atomically: written to a temporary file beside the target, then renamed
over it (``os.replace`` is atomic), so a reader sees the old file or the new one, never half of
one, and a crash or Ctrl-C while writing leaves the previous file intact."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replaced_atomically"]


@contextmanager
def replaced_atomically(path, suffix: str = ".tmp"):
    """Yield the name of a temporary file beside ``path``; when the block succeeds it replaces
    ``path``, when it fails it is removed. ``suffix`` keeps an extension writers infer a format
    from (matplotlib's ``savefig``)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
