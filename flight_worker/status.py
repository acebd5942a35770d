"""A DoGet answer that fails with an exact gRPC code and a clean message.

pyarrow 26 turns any Python exception other than its `Flight*Error` classes into a status whose
detail is the full Python traceback (verified), and those classes cannot express
INVALID_ARGUMENT or UNIMPLEMENTED. An error reported by a C++ stream carries no Python detail,
so `failing_stream` hands pyarrow an Arrow C stream (the C Data Interface `ArrowArrayStream`)
whose first `get_next` fails with `EINVAL` (-> `Status::Invalid` -> INVALID_ARGUMENT) or
`ENOSYS` (-> `NotImplemented` -> UNIMPLEMENTED) and the given message. Only the message text is
kept per stream, released when pyarrow releases the stream.
"""

from __future__ import annotations

import ctypes
import errno
import itertools

import pyarrow as pa
import pyarrow.flight as fl

INVALID_ARGUMENT = errno.EINVAL
UNIMPLEMENTED = errno.ENOSYS


class _Stream(ctypes.Structure):
    pass


_GET_SCHEMA = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Stream), ctypes.c_void_p)
_GET_NEXT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Stream), ctypes.c_void_p)
_GET_LAST_ERROR = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.POINTER(_Stream))
_RELEASE = ctypes.CFUNCTYPE(None, ctypes.POINTER(_Stream))
_Stream._fields_ = [("get_schema", _GET_SCHEMA), ("get_next", _GET_NEXT),
                    ("get_last_error", _GET_LAST_ERROR), ("release", _RELEASE),
                    ("private_data", ctypes.c_void_p)]

_live: dict[int, tuple[int, ctypes.Array[ctypes.c_char]]] = {}
_ids = itertools.count(1)
_EMPTY_SCHEMA = pa.schema([])


def _get_schema(stream: ctypes._Pointer, out: int) -> int:
    _EMPTY_SCHEMA._export_to_c(out)
    return 0


def _get_next(stream: ctypes._Pointer, out: int) -> int:
    entry = _live.get(stream.contents.private_data or 0)
    return entry[0] if entry else errno.EIO


def _get_last_error(stream: ctypes._Pointer) -> int | None:
    entry = _live.get(stream.contents.private_data or 0)
    return ctypes.addressof(entry[1]) if entry else None


def _release(stream: ctypes._Pointer) -> None:
    _live.pop(stream.contents.private_data or 0, None)
    stream.contents.release = _RELEASE()


# Module-level callbacks live as long as the process, so pyarrow can always call them.
_CALLBACKS = (_GET_SCHEMA(_get_schema), _GET_NEXT(_get_next), _GET_LAST_ERROR(_get_last_error),
              _RELEASE(_release))


def failing_stream(code: int, message: str) -> fl.RecordBatchStream:
    """A DoGet result that fails at once with `code` (an errno above) and `message`."""
    ident = next(_ids)
    _live[ident] = (code, ctypes.create_string_buffer(message.encode()[:1000]))
    c_stream = _Stream(*_CALLBACKS, ident)
    # pyarrow moves the struct into its own memory; our copy may go away afterwards.
    reader = pa.RecordBatchReader._import_from_c(ctypes.addressof(c_stream))
    return fl.RecordBatchStream(reader)
