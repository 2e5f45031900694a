#!/usr/bin/env python3
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Reshape protoc's Python output into a module that ansible-test sanity accepts, without changing what it does.

ansible-test (import, pep8, pylint) and ansible-lint's production profile leave no way to exempt generated code,
so make proto passes each *_pb2.py through this script:

- the google.protobuf imports go into a guard (module_utils must import without their optional libraries);
  the module then exports PROTOBUF_IMPORT_ERROR and builds its messages only when the imports worked;
- the serialized descriptor is split into adjacent bytes literals that fit in a line (checked: same bytes);
- 4-space indents, spaces around '=', ``not x`` for ``x == False``, no runs of blank lines;
- an import of another .proto's module (needed only to register its types) is marked for pylint.

It accepts only the shape that the pinned grpcio-tools emits and stops on anything else.
Usage: gencode_for_ansible.py FILE...  (rewrites each file in place)
"""

from __future__ import annotations

import ast
import re
import sys

IMPORT = re.compile(r"^from google\.protobuf(\.internal)? import \w+ as _\w+$")
DESCRIPTOR = re.compile(r"^DESCRIPTOR = _descriptor_pool\.Default\(\)\.AddSerializedFile\((b'.*')\)$")
C_DESCRIPTORS = "if _descriptor._USE_C_DESCRIPTORS == False:"
# An imported .proto (google/protobuf/wrappers.proto, say): unused by name, but importing it registers its types.
DEPENDENCY = re.compile(r"^from google\.protobuf import \w+_pb2 as \w+$")
LITERAL_WIDTH = 140


class UnexpectedShape(Exception):
    pass


def split_bytes_literal(literal: str, indent: str) -> list[str]:
    data = ast.literal_eval(literal)
    chunks = [b""]
    for value in data:
        byte = bytes([value])
        if len(repr(chunks[-1] + byte)) > LITERAL_WIDTH:
            chunks.append(b"")
        chunks[-1] += byte
    lines = [f"{indent}{chunk!r}" for chunk in chunks]
    if b"".join(ast.literal_eval(line.strip()) for line in lines) != data:
        raise UnexpectedShape("splitting the descriptor changed its bytes")
    return lines


def reshape(text: str) -> str:
    lines = text.splitlines()
    header, imports, body = [], [], []
    for line in lines:
        if not imports and not body and not IMPORT.match(line):
            header.append(line)
        elif IMPORT.match(line) and not body:
            imports.append(line)
        else:
            body.append(line)
    if not imports or not any(DESCRIPTOR.match(line) for line in body):
        raise UnexpectedShape("no google.protobuf imports or no serialized descriptor: not protoc 4.25 output")

    out = [line for line in header if line.strip()]
    out.append(
        "# Reshaped for ansible-test sanity by tools/gencode_for_ansible.py (make proto): same descriptor, guarded imports."
    )
    out += ["", "try:"]
    out += [f"    {line}" for line in imports]
    out += [
        "",
        "    PROTOBUF_IMPORT_ERROR = None",
        "except ImportError as _exc:",
        "    PROTOBUF_IMPORT_ERROR = _exc",
        "",
        "if PROTOBUF_IMPORT_ERROR is None:",
    ]
    for line in body:
        if not line.strip() or line.startswith("# @@protoc_insertion_point"):
            continue
        descriptor = DESCRIPTOR.match(line)
        if descriptor:
            out.append("    DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(")
            out += split_bytes_literal(descriptor.group(1), " " * 8)
            out.append("    )")
        elif line == C_DESCRIPTORS:
            out.append("    if not _descriptor._USE_C_DESCRIPTORS:")
        elif DEPENDENCY.match(line):
            out.append(f"    {line}  # pylint: disable=unused-import")
        elif line.startswith("  ") and not line.startswith("   "):
            out.append("        " + re.sub(r"^(\S+)=(\S+)$", r"\1 = \2", line.strip()))
        elif line.startswith(" "):
            raise UnexpectedShape(f"unexpected indentation: {line!r}")
        else:
            out.append("    " + line)
    return "\n".join(out) + "\n"


def main(paths: list[str]) -> int:
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            reshaped = reshape(text)
        except UnexpectedShape as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 1
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(reshaped)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
