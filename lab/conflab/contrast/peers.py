# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Recovery from a peer, as upstream's Coordinators do it when they run as several replicas.

A Coordinator in recovery mode asks the Kubernetes API for the Ready pods labelled ``app.kubernetes.io/name=coordinator``
other than itself, every ``peer_interval`` seconds (upstream: 15), and calls ``MeshAPI/Recover`` on each pod IP's
port 7777 over mutual aTLS until one answers with the seed, the salt, the mesh CA key and the latest manifest. A
Coordinator serves that call only while its own state is current, and only to a client whose evidence shows a policy
hash with the role ``coordinator`` in the current manifest. The lab's peers attest to each other with Contrast's
insecure variant, whatever the lab attests with to the collection.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .. import faultfile
from .._generated import meshapi_pb2
from ..atls_client import connect_atls, serve_once
from ..kubeapi.controllers import pod_ready
from .attestation_certs import INSECURE_OID, InsecureIssuer
from .replicas import MESH_API_PORT, pod_name

NAMESPACE = "contrast-demo"
SELECTOR = "app.kubernetes.io/name=coordinator"
RECOVER_METHOD = "/meshapi.MeshAPI/Recover"
CALL_TIMEOUT = 10.0


class PeerError(Exception):
    pass


def coordinator_hashes(manifest: bytes) -> set[bytes]:
    policies = json.loads(manifest).get("Policies") or {}
    return {
        bytes.fromhex(h)
        for h, entry in policies.items()
        if isinstance(entry, dict) and entry.get("Role") == "coordinator"
    }


def presented_hash(cert: x509.Certificate, nonce: bytes | None) -> bytes:
    """The policy hash an insecure-variant certificate shows; with ``nonce``, its report data must bind the key to it."""
    try:
        document = json.loads(cert.extensions.get_extension_for_oid(INSECURE_OID).value.value)
        host_data = base64.b64decode(document["hostData"])
        report_data = base64.b64decode(document["reportData"])
    except (x509.ExtensionNotFound, ValueError, KeyError, TypeError) as exc:
        raise PeerError(f"the peer's certificate carries no evidence: {exc}") from exc
    if nonce is not None:
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if not secrets.compare_digest(report_data, hashlib.sha512(spki + nonce).digest()):
            raise PeerError("the peer's evidence is not bound to this connection's nonce")
    return host_data


def ready_peers(config: dict, own_pod: str, timeout: float = CALL_TIMEOUT) -> list[tuple[str, str]]:
    """(pod name, pod IP) of every Ready Coordinator pod but ``own_pod``, as the Kubernetes API lists them."""
    api = config["kube_api"]
    token = Path(api["token_file"]).read_text().strip()
    query = urllib.parse.urlencode({"labelSelector": SELECTOR})
    request = urllib.request.Request(
        f"https://{api['ip']}:{api['port']}/api/v1/namespaces/{NAMESPACE}/pods?{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    context = ssl.create_default_context(cafile=api["cert"])
    with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310 - the lab's API
        pods = json.loads(answer.read()).get("items") or []
    found = []
    for pod in pods:
        name = pod["metadata"]["name"]
        if name != own_pod and pod_ready(pod) and pod["status"].get("podIP"):
            found.append((name, pod["status"]["podIP"]))
    return sorted(found)


def ask_peer(ip: str, own_hash: bytes, manifest: bytes, client_dir: Path, timeout: float = CALL_TIMEOUT):
    """One MeshAPI/Recover call to the peer at ``ip``, after checking its evidence against the latest manifest."""
    nonce = secrets.token_bytes(32)
    cert, key = InsecureIssuer(lambda: own_hash).issue(secrets.token_bytes(32))
    cert_file = client_dir / "mesh-client.pem"
    cert_file.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.chmod(0o600)
    tls = connect_atls(ip, MESH_API_PORT, cert_file, timeout, alpn_nonce=True, nonce=nonce)
    try:
        served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        if presented_hash(served, nonce) not in coordinator_hashes(manifest):
            raise PeerError(f"{ip} does not present a Coordinator policy of the current manifest")
    except BaseException:
        tls.close()
        raise
    local_port = serve_once(tls, timeout + 5)
    with grpc.insecure_channel(f"127.0.0.1:{local_port}") as channel:
        call = channel.unary_unary(
            RECOVER_METHOD,
            request_serializer=meshapi_pb2.RecoverRequest.SerializeToString,
            response_deserializer=meshapi_pb2.RecoverResponse.FromString,
        )
        return call(meshapi_pb2.RecoverRequest(), timeout=timeout)


class MeshApi:
    """The serving side: hands the state to an attested Coordinator, only while this one's state is current."""

    def __init__(self, coordinator, client_cert_for_peer):
        self.coordinator = coordinator
        self.client_cert_for_peer = client_cert_for_peer

    def recover(self, request, context):
        coordinator = self.coordinator
        if coordinator.state != "ready":
            context.abort(grpc.StatusCode.UNAVAILABLE, "coordinator has no current state to share")
        cert = self.client_cert_for_peer(context.peer())
        if cert is None:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "no peer certificate")
        latest = coordinator.history.manifests()[-1]
        try:
            allowed = presented_hash(cert, None) in coordinator_hashes(latest)
        except PeerError as exc:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, str(exc))
        if not allowed:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "peer is not a Coordinator of the current manifest")
        engine, mesh_key = coordinator.engine, coordinator.mesh_key
        return meshapi_pb2.RecoverResponse(
            Seed=engine.seed,
            Salt=engine.salt,
            MeshCAKey=mesh_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            LatestManifest=latest,
        )

    def handlers(self):
        method = grpc.unary_unary_rpc_method_handler(
            self.recover,
            request_deserializer=meshapi_pb2.RecoverRequest.FromString,
            response_serializer=meshapi_pb2.RecoverResponse.SerializeToString,
        )
        return (grpc.method_handlers_generic_handler("meshapi.MeshAPI", {"Recover": method}),)


class PeerRecoveryLoop:
    """Every ``interval`` seconds while the Coordinator waits in recovery mode: ask each Ready peer until one answers."""

    def __init__(
        self, config: dict, replica: int, coordinator, own_hash: bytes, client_dir: Path, log, interval: float
    ):
        self.config, self.own_pod = config, pod_name(replica)
        self.coordinator = coordinator
        self.own_hash = own_hash
        self.client_dir = client_dir
        self.log = log
        self.interval = interval

    def start(self, stopped: threading.Event) -> None:
        threading.Thread(target=self._run, args=(stopped,), name="peer-recovery", daemon=True).start()

    def _run(self, stopped: threading.Event) -> None:
        while not stopped.wait(self.interval):
            if self.coordinator.state == "stale":
                self.attempt()
            self.coordinator.on_state(self.coordinator.state)  # the history may have been set by a peer meanwhile

    def attempt(self) -> bool:
        if faultfile.read(self.config["dir"]).get("coordinator_peers") == "unreachable":
            self.log("peer recovery: no peer's mesh API answers (conflab break --coordinator-peers unreachable)")
            return False
        try:
            peers = ready_peers(self.config, self.own_pod)
        except (OSError, ValueError, KeyError) as exc:
            self.log(f"peer recovery: cannot list the Coordinator pods: {exc}")
            return False
        if not peers:
            self.log("peer recovery: no ready peer; waiting for a recovery by the seed share")
        for name, ip in peers:
            started = time.monotonic()
            try:
                manifest = self.coordinator.history.manifests()[-1]
                answer = ask_peer(ip, self.own_hash, manifest, self.client_dir)
                self.coordinator.recover_from_peer(answer, name)
            except (OSError, PeerError, grpc.RpcError, ValueError) as exc:
                reason = exc.details() if isinstance(exc, grpc.RpcError) else exc
                self.log(f"peer recovery from {name} ({ip}) failed: {reason}")
                continue
            self.log(f"recovered from peer {name} in {time.monotonic() - started:.2f} s")
            return True
        return False
