"""Exit codes and the one exception type the CLI turns into a one-line message."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (see README, "Exit codes")."""

    OK = 0
    INTERNAL = 1  # a bug: please report it (run with --debug for the traceback)
    BAD_INPUT = 2  # bad input file, bad option, missing model, unwritable output
    NO_JUMP = 3  # the video was read and a person tracked, but no jump was found
    NOT_MEASURABLE = 4  # nobody detected, athlete out of frame, no clear jumper
    JUMP_MISMATCH = 5  # a jump was found but it is not the type asked with --jump
    PARTIAL = 6  # batch: some videos failed, the others were measured
    LOW_CONFIDENCE = 7  # measured and printed, but the quality verdict is "low confidence"
    INTERRUPTED = 130  # Ctrl-C


class KmoError(Exception):
    """An expected failure: a one-line message saying what is wrong and what to do."""

    def __init__(self, message: str, code: ExitCode = ExitCode.BAD_INPUT) -> None:
        message = " ".join(str(message).split())  # always one line on stderr
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
