#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# Regenerate the protobuf code from the collection's proto/*.proto with grpcio-tools.
# The collection gets message classes only (its client speaks HTTP/2 itself);
# the lab gets messages and grpcio service stubs. Run: make proto
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
# The collection's code comes from the oldest generator whose output the declared protobuf range accepts
# (requirements.txt); the lab, pinned to the newest runtime, uses the dev environment's grpcio-tools.
collection_py=${COLLECTION_PROTOC_PYTHON:?set COLLECTION_PROTOC_PYTHON to a python with grpcio-tools==1.62.3 (make proto does)}
collection="$here/ansible_collections/confidential/recovery"
cd "$collection/proto"
plugin_out="$collection/plugins/module_utils/_generated"
lab_out="$here/lab/conflab/_generated"
"$collection_py" -m grpc_tools.protoc -I. --python_out="$plugin_out" ./*.proto
"$py" "$here/tools/gencode_for_ansible.py" "$plugin_out"/*_pb2.py
"$py" -m grpc_tools.protoc -I. --python_out="$lab_out" --grpc_python_out="$lab_out" ./*.proto
# grpc_tools emits absolute imports ("import recover_pb2"); make them package-relative.
sed -i -E 's/^import ([a-z_]+_pb2) as /from . import \1 as /' "$lab_out"/*_pb2_grpc.py
# The lab's own protocols (the Coordinators' mesh API), which the collection never speaks: messages only.
cd "$here/lab/proto"
"$py" -m grpc_tools.protoc -I. --python_out="$lab_out" ./*.proto
