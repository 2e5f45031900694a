# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The Coordinator's user API (ansible_collections/confidential/recovery/docs/contrast-protocol.md, User API): SetManifest, GetManifests, Recover.

States: uninitialized -> ready (first SetManifest) -> stale (after a restart) -> ready (Recover).
Recover checks in upstream's order, with its codes and messages; the first failure wins.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading

import grpc
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .._generated import userapi_pb2
from .history import History
from .seedengine import SALT_LENGTH, SeedEngine, ca_certificates

SERVICES = {"new": "edgelesssys.contrast.userapi.UserAPI", "old": "userapi.UserAPI"}
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"seedshare")
NOT_AUTHORIZED = "peer not authorized to recover existing state"


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def peer_key_digest(cert) -> bytes:
    """SHA-256 of the peer key's DER: PKCS#1 for RSA, PKIX for ECDSA
    (ansible_collections/confidential/recovery/docs/contrast-protocol.md, Workspace and seed)."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    else:
        raise ValueError("unsupported peer public key type")
    return hashlib.sha256(der).digest()


class Coordinator:
    def __init__(self, history: History, on_state):
        self.history = history
        self.on_state = on_state
        self.engine: SeedEngine | None = None
        self.mesh_key = None
        self.root_pem = b""
        self.mesh_pem = b""
        self._lock = threading.Lock()
        self.client_cert_for_peer = lambda peer: None
        self.guards_peers = lambda: False  # whether a user Recover beside ready peers is refused (later releases)
        self.ready_peer_count = lambda: 0
        self.recovered_by = None  # "seed" or "peer <pod>": how the state was last restored
        self.seed_recoveries = 0  # user Recover calls that succeeded since the process started

    @property
    def state(self) -> str:
        if self.engine is not None:
            return "ready"
        return "stale" if self.history.initialized else "uninitialized"

    def _install(self, engine: SeedEngine, mesh_key=None) -> None:
        """A new mesh CA key unless a peer handed over its own (the workloads then keep their certificates)."""
        self.engine = engine
        self.mesh_key = mesh_key or ec.generate_private_key(ec.SECP384R1())
        root, mesh = ca_certificates(engine.root_ca_key(), self.mesh_key)
        self.root_pem, self.mesh_pem = _pem(root), _pem(mesh)
        self.on_state(self.state)

    # -- methods ------------------------------------------------------------
    def set_manifest(self, request, context):
        with self._lock:
            if self.state == "stale":
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, "coordinator is in recovery mode")
            try:
                manifest = json.loads(request.Manifest)
            except ValueError as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unmarshaling manifest: {exc}")
            owners = manifest.get("SeedshareOwnerPubKeys") or []
            if self.state == "ready":
                context.abort(
                    grpc.StatusCode.PERMISSION_DENIED, "validating peer: manifest updates are not supported by the lab"
                )
            engine = SeedEngine.generate()
            shares = []
            for owner in owners:
                public_key = serialization.load_der_public_key(bytes.fromhex(owner))  # PKCS#1 DER
                shares.append(
                    userapi_pb2.SeedShare(PublicKey=owner, EncryptedSeed=public_key.encrypt(engine.seed, OAEP))
                )
            self.history.append(bytes(request.Manifest), list(request.Policies), engine.sign_transition)
            self._install(engine)
            return userapi_pb2.SetManifestResponse(
                RootCA=self.root_pem,
                MeshCA=self.mesh_pem,
                SeedSharesDoc=userapi_pb2.SeedShareDocument(SeedShares=shares, salt=engine.salt),
            )

    def get_manifests(self, request, context):
        state = self.state
        if state == "stale":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "coordinator is in recovery mode")
        if state == "uninitialized":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no manifest configured")
        latest_hash, signature = self.history.latest()
        return userapi_pb2.GetManifestsResponse(
            Manifests=self.history.manifests(),
            Policies=self.history.policies(),
            RootCA=self.root_pem,
            MeshCA=self.mesh_pem,
            LatestTransition=userapi_pb2.LatestTransition(TransitionHash=latest_hash, Signature=signature),
        )

    def recover(self, request, context):
        with self._lock:
            state = self.state
            if state == "uninitialized":
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no state to recover from")
            if state == "ready":
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, "coordinator is already recovered")
            # As in Contrast v1.9 and v1.10, ready peers are not consulted by default: a user recovery beside them is
            # accepted (and splits the mesh CA). A later release refuses it unless Force (`break --coordinator-guards-peers`).
            peers = self.ready_peer_count() if self.guards_peers() and not request.Force else 0
            if peers:
                context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"rejecting user recovery because {peers} recovered peers are available",
                )
            self._authorize(context)
            if len(request.Salt) != SALT_LENGTH:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "salt must be 32 bytes long")
            if len(request.Seed) < 32:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "secret seed must be at least 32 bytes long")
            engine = SeedEngine(bytes(request.Seed), bytes(request.Salt))
            latest_hash, signature = self.history.latest()
            if not engine.verify_transition(latest_hash, signature):
                context.abort(grpc.StatusCode.UNKNOWN, "resetting state: latest transition signature is invalid")
            self.recovered_by = "seed"
            self.seed_recoveries += 1
            self._install(engine)
            return userapi_pb2.RecoverResponse()

    def recover_from_peer(self, answer, peer: str) -> None:
        """Install the state a peer's MeshAPI/Recover handed over; raises ValueError when it does not fit the history."""
        with self._lock:
            if self.state != "stale":
                return
            if bytes(answer.LatestManifest) != self.history.manifests()[-1]:
                raise ValueError("the peer's latest manifest is not the latest in the history")
            engine = SeedEngine(bytes(answer.Seed), bytes(answer.Salt))
            if not engine.verify_transition(*self.history.latest()):
                raise ValueError("the peer's seed does not sign the latest transition")
            self.recovered_by = f"peer {peer}"
            self._install(engine, serialization.load_pem_private_key(bytes(answer.MeshCAKey), None))

    def _authorize(self, context) -> None:
        cert = self.client_cert_for_peer(context.peer())
        if cert is None:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{NOT_AUTHORIZED}: no peer certificates found")
        manifest = json.loads(self.history.manifests()[-1])
        owners = manifest.get("SeedshareOwnerPubKeys") or []
        if not owners:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{NOT_AUTHORIZED}: setting manifest is disabled")
        try:
            digest = peer_key_digest(cert)
        except ValueError as exc:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{NOT_AUTHORIZED}: {exc}")
        for owner in owners:
            try:
                owner_der = bytes.fromhex(owner)
            except ValueError:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, "seedshare owner public key is not hex-encoded")
            if secrets.compare_digest(hashlib.sha256(owner_der).digest(), digest):
                return
        context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{NOT_AUTHORIZED}: peer not authorized")


def generic_handlers(coordinator: Coordinator, paths: str):
    methods = {
        "SetManifest": grpc.unary_unary_rpc_method_handler(
            coordinator.set_manifest,
            request_deserializer=userapi_pb2.SetManifestRequest.FromString,
            response_serializer=userapi_pb2.SetManifestResponse.SerializeToString,
        ),
        "GetManifests": grpc.unary_unary_rpc_method_handler(
            coordinator.get_manifests,
            request_deserializer=userapi_pb2.GetManifestsRequest.FromString,
            response_serializer=userapi_pb2.GetManifestsResponse.SerializeToString,
        ),
        "Recover": grpc.unary_unary_rpc_method_handler(
            coordinator.recover,
            request_deserializer=userapi_pb2.RecoverRequest.FromString,
            response_serializer=userapi_pb2.RecoverResponse.SerializeToString,
        ),
    }
    wanted = ("new", "old") if paths == "both" else (paths,)
    return tuple(grpc.method_handlers_generic_handler(SERVICES[w], methods) for w in wanted)
