# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The official Kubernetes client, imported when it is first needed.

Importing it takes a third of a second or more (its thousand generated model classes), longer than a module's
first aTLS probes. A module that needs it only after those probes starts the import in the background
(``warm_up``), and the first call waits for it (``library``). Whether the library is installed at all is known at
once, without importing it, so that a module still fails with ``missing_required_lib`` before it does anything.
"""

from __future__ import annotations

import importlib.util
import threading
from types import SimpleNamespace

HAS_KUBERNETES = importlib.util.find_spec("kubernetes") is not None
KUBERNETES_IMPORT_ERROR = None if HAS_KUBERNETES else ModuleNotFoundError("No module named 'kubernetes'")


class MissingApiException(Exception):
    """Stands in for kubernetes' ApiException where the library is missing; never raised."""


_loaded: list[SimpleNamespace] = []
_loading = threading.Lock()


def library() -> SimpleNamespace:
    """``client``, ``config`` and ``ApiException`` of the kubernetes package, imported once.

    Raises ImportError when the library is missing or broken; ``HAS_KUBERNETES`` lets a module refuse before that."""
    with _loading:
        if not _loaded:
            from kubernetes import client, config
            from kubernetes.client.rest import ApiException

            _loaded.append(SimpleNamespace(client=client, config=config, ApiException=ApiException))
        return _loaded[0]


def api_exception() -> type[Exception]:
    """The class to catch around an API call: kubernetes' ApiException, or a stand-in that is never raised."""
    return library().ApiException if HAS_KUBERNETES else MissingApiException


_warming: list[threading.Thread] = []
_starting = threading.Lock()  # not _loading: a second warm_up must not wait for the import the first one started


def warm_up() -> None:
    """Import the client in a daemon thread, while the caller goes on with work that does not need it. Once."""
    with _starting:
        if not HAS_KUBERNETES or _loaded or _warming:
            return
        _warming.append(threading.Thread(target=_quietly_load, name="import-kubernetes", daemon=True))
    _warming[0].start()


def _quietly_load() -> None:
    try:
        library()
    except ImportError:  # the first real use raises it again, where it can be reported
        pass
