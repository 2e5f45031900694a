# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""What the Contrast modules share: their dependencies. Constellation code has no place here."""

from __future__ import annotations

from .._kube import _client
from .._module import _common
from .._module._common import PROTOBUF_REQUIREMENT
from .._net import _grpc_h2
from . import _userapi, _workspace

DEPENDENCIES = (
    ("cryptography", "cryptography", _workspace.HAS_CRYPTOGRAPHY, _workspace.CRYPTOGRAPHY_IMPORT_ERROR),
    ("h2", "h2", _grpc_h2.HAS_H2, _grpc_h2.H2_IMPORT_ERROR),
    ("protobuf-userapi", PROTOBUF_REQUIREMENT, _userapi.HAS_PROTOBUF, _userapi.PROTOBUF_IMPORT_ERROR),
    ("kubernetes", "kubernetes", _client.HAS_KUBERNETES, _client.KUBERNETES_IMPORT_ERROR),
)


def require_libraries(module, names=("cryptography", "h2", "protobuf-userapi")) -> None:
    _common.require_libraries(module, DEPENDENCIES, names)
