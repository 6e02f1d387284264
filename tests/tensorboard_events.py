"""Reading TensorBoard event files back in tests, without TensorBoard installed."""

from __future__ import annotations

import struct
from pathlib import Path


def read_scalars(directory: str | Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of the event files in ``directory`` as {tag: [(step, value), ...]}, read
    with tensorboardX's protobuf classes: each TFRecord is a length (u64), its CRC (u32), the
    Event bytes and their CRC (u32)."""
    from tensorboardX.proto import event_pb2

    out: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(Path(directory).glob("events.out.tfevents.*")):
        data = path.read_bytes()
        pos = 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[pos : pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out
