"""Output files: refuse to clobber, write atomically (temp file in the same folder + rename).

A reader never sees a half-written JSON, CSV, PNG or MP4: everything is written to a hidden
temporary file next to the target and moved into place with ``os.replace`` only when complete,
so an interrupted batch leaves either the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kinemotion_cli.errors import ExitCode, KmoError


def refuse_existing(path: Path, force: bool) -> None:
    """Raise a one-line KmoError if ``path`` exists and ``--force`` was not given."""
    if path.exists() and not force:
        raise KmoError(f"{path}: already exists; use --force to overwrite it.", ExitCode.BAD_INPUT)


def ensure_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) and check a file can be created in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".kmo-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise KmoError(
            f"{folder}: cannot write output here ({exc.strerror or type(exc).__name__}); "
            "choose a writable folder.",
            ExitCode.BAD_INPUT,
        ) from None


@contextlib.contextmanager
def atomic_path(path: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path``.

    The temporary name keeps the suffix so encoders that look at it still work. On error
    the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    refuse_existing(path, force)
    ensure_dir(path.parent if str(path.parent) else Path("."))
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual permissions
        refuse_existing(path, force)  # appeared while we were working
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str, force: bool = False) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path, force) as tmp:
        tmp.write_text(text, encoding="utf-8")
