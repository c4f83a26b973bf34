"""Read an ONNX file's metadata, and write a tiny ONNX model, without the ``onnx`` package.

An ONNX file is a protobuf ``ModelProto``. :func:`read_meta` walks its top-level fields and
seeks past the large ones (the graph's weights), so it reads only a few kilobytes even of a
several-hundred-megabyte model: the ``metadata_props`` (key/value strings, where stand-in
models carry their marker), the producer and the graph's name.

:func:`tiny_model` encodes a one-node model (``y = Relu(x)``, float ``[1, 4]``) for checking
which execution providers really load (``kmo doctor``) where ``onnx`` is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# ModelProto / GraphProto / StringStringEntryProto field numbers (onnx.proto3).
_MODEL_IR_VERSION = 1
_MODEL_PRODUCER = 2
_MODEL_GRAPH = 7
_MODEL_OPSET = 8
_MODEL_METADATA = 14
_GRAPH_NODE = 1
_GRAPH_NAME = 2
_MAX_STRING = 1 << 20  # metadata strings longer than this are not read (a damaged file)


class OnnxFormatError(ValueError):
    """The file is not a readable ONNX protobuf."""


@dataclass(frozen=True)
class OnnxMeta:
    """What :func:`read_meta` found."""

    metadata: dict[str, str] = field(default_factory=dict)
    producer: str | None = None
    graph_name: str | None = None


def _varint(fh: BinaryIO) -> int | None:
    """One base-128 varint, or None at the end of the file."""
    shift = result = 0
    while True:
        b = fh.read(1)
        if not b:
            if shift == 0:
                return None
            raise OnnxFormatError("truncated varint")
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise OnnxFormatError("varint too long")


def _fields(fh: BinaryIO, end: int):  # noqa: ANN202 - generator of (number, wire type, value)
    """Fields up to offset ``end``: ``(number, wire_type, value)``; for length-delimited
    fields the value is ``(offset, length)`` and the caller decides to read or skip it."""
    while fh.tell() < end:
        key = _varint(fh)
        if key is None:
            return
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: object = _varint(fh)
        elif wire == 1:
            fh.seek(8, 1)
            value = None
        elif wire == 5:
            fh.seek(4, 1)
            value = None
        elif wire == 2:
            length = _varint(fh)
            if length is None or fh.tell() + length > end:
                raise OnnxFormatError("field runs past the end of the file")
            value = (fh.tell(), length)
            fh.seek(length, 1)
        else:
            raise OnnxFormatError(f"unsupported wire type {wire}")
        if number == 0:
            raise OnnxFormatError("field number 0")
        yield number, wire, value


def _string(fh: BinaryIO, span: tuple[int, int]) -> str:
    offset, length = span
    if length > _MAX_STRING:
        return ""
    here = fh.tell()
    fh.seek(offset)
    data = fh.read(length)
    fh.seek(here)
    return data.decode("utf-8", errors="replace")


def read_meta(path: str | Path) -> OnnxMeta:
    """Metadata, producer and graph name of the ONNX file ``path`` (no weights read).

    Raises :class:`OnnxFormatError` for a file that is not an ONNX protobuf, ``OSError``
    when it cannot be read.
    """
    metadata: dict[str, str] = {}
    producer = graph_name = None
    saw_graph = False
    with open(path, "rb") as fh:
        end = fh.seek(0, 2)
        fh.seek(0)
        for number, wire, value in _fields(fh, end):
            if wire != 2:
                if number == _MODEL_IR_VERSION and wire != 0:
                    raise OnnxFormatError("ir_version is not a varint")
                continue
            if number == _MODEL_PRODUCER:
                producer = _string(fh, value)
            elif number == _MODEL_GRAPH:
                saw_graph = True
                graph_name = _graph_name(fh, value)
            elif number == _MODEL_METADATA:
                entry = _entry(fh, value)
                if entry is not None:
                    metadata[entry[0]] = entry[1]
    if not saw_graph:
        raise OnnxFormatError("no graph in the file")
    return OnnxMeta(metadata, producer, graph_name)


def _graph_name(fh: BinaryIO, span: tuple[int, int]) -> str | None:
    here = fh.tell()
    fh.seek(span[0])
    try:
        for number, wire, value in _fields(fh, span[0] + span[1]):
            if number == _GRAPH_NAME and wire == 2:
                return _string(fh, value)
            if number != _GRAPH_NODE:  # the name follows the nodes; weights come after it
                return None
        return None
    finally:
        fh.seek(here)


def _entry(fh: BinaryIO, span: tuple[int, int]) -> tuple[str, str] | None:
    here = fh.tell()
    fh.seek(span[0])
    key = value = None
    try:
        for number, wire, v in _fields(fh, span[0] + span[1]):
            if wire == 2 and number == 1:
                key = _string(fh, v)
            elif wire == 2 and number == 2:
                value = _string(fh, v)
    finally:
        fh.seek(here)
    return (key, value or "") if key is not None else None


# --------------------------------------------------------------------------- writing


def _enc_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _enc_varint(number << 3 | 2) + _enc_varint(len(data)) + data


def _int_field(number: int, value: int) -> bytes:
    return _enc_varint(number << 3) + _enc_varint(value)


def _value_info(name: str, dims: tuple[int, ...]) -> bytes:
    shape = b"".join(_len_field(1, _int_field(1, d)) for d in dims)  # Dimension.dim_value
    tensor = _int_field(1, 1) + _len_field(2, shape)  # elem_type FLOAT, shape
    return _len_field(1, name) + _len_field(2, _len_field(1, tensor))


def tiny_model(metadata: dict[str, str] | None = None) -> bytes:
    """A valid one-node ONNX model ``y = Relu(x)`` on float ``[1, 4]`` (opset 17, IR 8)."""
    node = _len_field(1, "x") + _len_field(2, "y") + _len_field(3, "relu") + _len_field(4, "Relu")
    graph = (
        _len_field(_GRAPH_NODE, node)
        + _len_field(_GRAPH_NAME, "kmo_tiny")
        + _len_field(11, _value_info("x", (1, 4)))
        + _len_field(12, _value_info("y", (1, 4)))
    )
    model = (
        _int_field(_MODEL_IR_VERSION, 8)
        + _len_field(_MODEL_PRODUCER, "kmo")
        + _len_field(_MODEL_GRAPH, graph)
        + _len_field(_MODEL_OPSET, _len_field(1, "") + _int_field(2, 17))
    )
    for k, v in (metadata or {}).items():
        model += _len_field(_MODEL_METADATA, _len_field(1, k) + _len_field(2, v))
    return model
