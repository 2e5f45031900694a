# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The workload owner's side of `contrast set`: keys, manifest, SetManifest, workspace files.

The lab does this once at `conflab up`, so the seed-share owner's workspace looks as it does
after a real `contrast generate` + `contrast set`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path

import grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .._generated import userapi_pb2
from ..atls_client import connect_atls, serve_once
from .userapi_service import SERVICES

DEMO_WORKLOADS = ("web", "emoji", "db")


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def workload_policy_hash(name: str) -> bytes:
    """Stands for the hash of a demo workload's pod policy (its HOSTDATA on SNP)."""
    return hashlib.sha256(f"policy of {name}".encode()).digest()


def with_names_policies(manifest: dict) -> dict:
    """The manifest as Contrast v0.7 and older wrote it: Policies maps each hash to its names, and no entry says which
    policy is the Coordinator's."""
    policies = {h: list(entry.get("SANs") or []) for h, entry in manifest["Policies"].items()}
    return dict(manifest, Policies=policies)


def build_manifest(
    coordinator_policy_hash: bytes,
    seedshare_owner: rsa.RSAPrivateKey,
    workload_owner,
    snp_reference_values: list | None = None,
) -> bytes:
    policies = {
        coordinator_policy_hash.hex(): {
            "SANs": ["coordinator"],
            "WorkloadSecretID": "coordinator",
            "Role": "coordinator",
        }
    }
    for name in DEMO_WORKLOADS:
        policies[workload_policy_hash(name).hex()] = {"SANs": [name], "WorkloadSecretID": name}
    owner_pkcs1 = seedshare_owner.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    workload_pkix = workload_owner.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    manifest = {
        "Policies": policies,
        "ReferenceValues": {"snp": snp_reference_values or [], "tdx": []},
        "WorkloadOwnerKeyDigests": [hashlib.sha256(workload_pkix).hexdigest()],
        "SeedshareOwnerPubKeys": [owner_pkcs1.hex()],
    }
    return json.dumps(manifest, indent=2).encode()


def set_manifest(host: str, port: int, manifest: bytes, paths: str, timeout: float = 30.0):
    service = SERVICES["old" if paths == "old" else "new"]
    tls = connect_atls(host, port, None, timeout, alpn_nonce=True)
    local_port = serve_once(tls, timeout + 5)
    with grpc.insecure_channel(f"127.0.0.1:{local_port}") as channel:
        call = channel.unary_unary(
            f"/{service}/SetManifest",
            request_serializer=userapi_pb2.SetManifestRequest.SerializeToString,
            response_deserializer=userapi_pb2.SetManifestResponse.FromString,
        )
        return call(
            userapi_pb2.SetManifestRequest(Manifest=manifest, Policies=[secrets.token_bytes(16)]), timeout=timeout
        )


def create_workspace(
    directory: Path,
    host: str,
    port: int,
    coordinator_policy_hash: bytes,
    paths: str,
    snp_reference_values: list | None = None,
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    seedshare_owner = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    workload_owner = ec.generate_private_key(ec.SECP384R1())
    manifest = build_manifest(coordinator_policy_hash, seedshare_owner, workload_owner, snp_reference_values)
    response = set_manifest(host, port, manifest, paths)
    pem, none = serialization.Encoding.PEM, serialization.NoEncryption()
    _write(
        directory / "seedshare-owner.pem",
        seedshare_owner.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, none),
        private=True,
    )
    _write(
        directory / "workload-owner.pem",
        workload_owner.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, none),
        private=True,
    )
    _write(directory / "manifest.json", manifest)
    shares = {
        "SeedShares": [
            {"PublicKey": s.PublicKey, "EncryptedSeed": base64.b64encode(s.EncryptedSeed).decode()}
            for s in response.SeedSharesDoc.SeedShares
        ],
        "salt": base64.b64encode(response.SeedSharesDoc.salt).decode(),
    }
    _write(directory / "seed-shares.json", json.dumps(shares, indent=2).encode(), private=True)
    _write(directory / "coordinator-root-ca.pem", response.RootCA)
    _write(directory / "mesh-ca.pem", response.MeshCA)
