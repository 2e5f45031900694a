# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The checked-in gencode fits the protobuf range that requirements.txt declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

COLLECTION = Path(__file__).resolve().parents[5]
GENERATED = sorted((COLLECTION / "plugins" / "module_utils" / "_generated").glob("*_pb2.py"))


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def declared_protobuf_floor() -> tuple[int, ...]:
    for line in (COLLECTION / "requirements.txt").read_text().splitlines():
        match = re.match(r"protobuf>=([0-9.]+)", line.strip())
        if match:
            return version(match.group(1))
    raise AssertionError("requirements.txt declares no protobuf lower bound")


def without_json_names(messages) -> None:
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        without_json_names(message.nested_type)


def test_every_proto_has_gencode():
    protos = {p.stem for p in (COLLECTION / "proto").glob("*.proto")}
    assert protos and protos == {p.name.removesuffix("_pb2.py") for p in GENERATED}


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.name)
def test_gencode_is_not_newer_than_the_declared_floor(path):
    match = re.search(r"^# Protobuf Python Version: ([0-9.]+)$", path.read_text(), re.M)
    assert match, f"{path.name} does not say which protobuf generated it"
    assert version(match.group(1)) <= declared_protobuf_floor(), (
        f"{path.name} was generated for protobuf {match.group(1)}, newer than requirements.txt admits: run make proto"
    )


def test_gencode_imports_on_this_runtime():
    from ansible_collections.confidential.recovery.plugins.module_utils._generated import recover_pb2

    message = recover_pb2.RecoverMessage(kms_uri="kms://x", storage_uri="storage://y")
    assert recover_pb2.RecoverMessage.FromString(message.SerializeToString()) == message


@pytest.mark.parametrize("proto", sorted((COLLECTION / "proto").glob("*.proto")), ids=lambda p: p.name)
def test_gencode_matches_its_proto_file(proto, tmp_path):
    """The checked-in module carries exactly the descriptor that protoc makes of proto/*.proto today."""
    grpc_tools = pytest.importorskip("grpc_tools.protoc")
    import importlib
    from importlib.resources import files

    from google.protobuf import descriptor_pb2

    well_known = files("grpc_tools") / "_proto"  # google/protobuf/*.proto, which sevsnp.proto imports
    out = tmp_path / "set.pb"
    assert (
        grpc_tools.main(["protoc", f"-I{proto.parent}", f"-I{well_known}", f"--descriptor_set_out={out}", proto.name])
        == 0
    )
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    without_json_names(compiled.message_type)  # a descriptor set carries them; gencode leaves them out
    gencode = importlib.import_module(
        f"ansible_collections.confidential.recovery.plugins.module_utils._generated.{proto.stem}_pb2"
    )
    checked_in = descriptor_pb2.FileDescriptorProto.FromString(gencode.DESCRIPTOR.serialized_pb)
    assert checked_in == compiled, f"{proto.name} changed since the gencode was made: run make proto"


def test_without_protobuf_the_backends_report_it():
    """The import guard: no google.protobuf means HAS_PROTOBUF false and the ImportError kept, not a crash."""
    import subprocess
    import sys

    probe = (
        "import sys; sys.modules['google.protobuf'] = None\n"
        "from ansible_collections.confidential.recovery.plugins.module_utils._constellation import _rpc as rpc\n"
        "print(rpc.HAS_PROTOBUF, type(rpc.PROTOBUF_IMPORT_ERROR).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=str(COLLECTION.parents[2])
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "ModuleNotFoundError"]
