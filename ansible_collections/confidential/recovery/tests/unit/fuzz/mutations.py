# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""What a hostile peer or file can make of a genuine input: flipped, cut, spliced or random bytes, and JSON or
protobuf structures with any value where another was expected."""

from __future__ import annotations

import json

from hypothesis import strategies as st

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=80)
    | st.sampled_from(["", "00", "ff" * 32, "AAAA", "=", "0x1", "-1", "NaN"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def _flip(seed: bytes, edits) -> bytes:
    data = bytearray(seed)
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data)


def mutated_bytes(seed: bytes, max_random: int = 2048):
    """Bytes a reader may meet instead of ``seed``."""
    options = [
        st.binary(max_size=max_random),
        st.integers(0, len(seed)).map(lambda n: seed[:n]),
        st.tuples(st.integers(0, len(seed)), st.binary(min_size=1, max_size=64)).map(
            lambda t: seed[: t[0]] + t[1] + seed[t[0] :]
        ),
        st.tuples(st.integers(0, len(seed)), st.integers(0, len(seed))).map(lambda t: seed[: t[0]] + seed[t[1] :]),
    ]
    if seed:
        options.append(
            st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)), min_size=1, max_size=8).map(
                lambda edits: _flip(seed, edits)
            )
        )
    return st.one_of(options)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


def _replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _removed(value, path):
    if not path:
        return None
    if len(path) == 1:
        copy = dict(value) if isinstance(value, dict) else list(value)
        del copy[path[0]]
        return copy
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _removed(value[path[0]], path[1:])
    return copy


def mutated_json(seed):
    """``seed`` (a parsed JSON value) with one to three places replaced by any JSON value or removed."""
    paths = list(_paths(seed))

    @st.composite
    def build(draw):
        value = seed
        for _step in range(draw(st.integers(1, 3))):
            here = list(_paths(value)) or paths
            path = draw(st.sampled_from(here))
            if path and draw(st.booleans()):
                value = _removed(value, path)
            else:
                value = _replaced(value, path, draw(JSON_VALUES))
        return value

    return build()


def mutated_json_bytes(seed):
    """The JSON text of a structurally mutated ``seed``, or its bytes mutated."""
    return st.one_of(mutated_json(seed).map(lambda v: json.dumps(v).encode()), mutated_bytes(json.dumps(seed).encode()))


def mutated_message(message):
    """A protobuf ``message`` with some fields set to other values of their types, or its wire bytes mutated."""
    fields = list(message.DESCRIPTOR.fields)

    @st.composite
    def build(draw):
        copy = type(message)()
        copy.CopyFrom(message)
        for descriptor in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3)):
            _scramble(draw, copy, descriptor)
        return copy.SerializeToString()

    return st.one_of(build(), mutated_bytes(message.SerializeToString()))


def _repeated(descriptor) -> bool:
    if hasattr(descriptor, "is_repeated"):  # protobuf 6 and later
        return descriptor.is_repeated
    return descriptor.label == descriptor.LABEL_REPEATED


def _scramble(draw, message, descriptor) -> None:
    name = descriptor.name
    if descriptor.type == descriptor.TYPE_MESSAGE:
        if _repeated(descriptor) or descriptor.message_type.GetOptions().map_entry:
            message.ClearField(name)
            return
        child = getattr(message, name)
        subfields = list(descriptor.message_type.fields)
        if subfields and draw(st.booleans()):
            _scramble(draw, child, draw(st.sampled_from(subfields)))
        else:
            message.ClearField(name)
        return
    if _repeated(descriptor):
        if descriptor.type == descriptor.TYPE_BYTES:
            getattr(message, name)[:] = draw(st.lists(st.binary(max_size=64), max_size=6))
        else:
            message.ClearField(name)
        return
    if descriptor.type == descriptor.TYPE_BYTES:
        setattr(message, name, draw(st.binary(max_size=96)))
    elif descriptor.type == descriptor.TYPE_STRING:
        setattr(message, name, draw(st.text(max_size=40)))
    elif descriptor.type == descriptor.TYPE_BOOL:
        setattr(message, name, draw(st.booleans()))
    elif descriptor.type == descriptor.TYPE_ENUM:
        setattr(message, name, draw(st.sampled_from([v.number for v in descriptor.enum_type.values])))
    elif descriptor.cpp_type in (descriptor.CPPTYPE_UINT32,):
        setattr(message, name, draw(st.integers(0, 2**32 - 1)))
    elif descriptor.cpp_type in (descriptor.CPPTYPE_UINT64,):
        setattr(message, name, draw(st.integers(0, 2**64 - 1)))
    elif descriptor.cpp_type in (descriptor.CPPTYPE_INT32,):
        setattr(message, name, draw(st.integers(-(2**31), 2**31 - 1)))
    elif descriptor.cpp_type in (descriptor.CPPTYPE_INT64,):
        setattr(message, name, draw(st.integers(-(2**63), 2**63 - 1)))


def only(typed_errors, call, *args, **kwargs):
    """Run ``call``: it may return, or raise one of ``typed_errors``; anything else fails the test."""
    try:
        return call(*args, **kwargs)
    except typed_errors:
        return None
