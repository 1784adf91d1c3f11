"""Wire enumerations shared by the gateway, the virtual device and the C firmware."""

from enum import IntEnum


class ErrorCode(IntEnum):
    BAD_FRAME = 1
    UNSUPPORTED_VERSION = 2
    NOT_ENROLLED = 3
    ENROLL_REJECTED = 4
    INVALID_MODULE = 5
    MODULE_TOO_LARGE = 6
    HASH_MISMATCH = 7
    OUT_OF_ORDER = 8
    UNKNOWN_MODULE = 9
    RESOURCE_EXHAUSTED = 10
    INTERNAL = 11


class AppState(IntEnum):
    DEPLOYING = 0
    RUNNING = 1
    STOPPED = 2  # stopped on request (StopApp)
    FAILED = 3  # trap, budget exhausted, refused module
    COMPLETED = 4  # the entry function returned


class DeployStep(IntEnum):
    BEGIN = 0
    CHUNK = 1
    COMMIT = 2


class OutputKind(IntEnum):
    LOG = 0
    VALUE = 1
    RESULT = 2
