# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The API server's CA, serving certificate and bearer token, and the admin kubeconfig for them."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import secrets
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _certificate(subject: str, public_key, issuer: str, signing_key, *, ca: bool, ip: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def write_credentials(config: dict) -> None:
    directory = Path(config["dir"])
    api = config["kube_api"]
    (directory / ".cluster").mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("conflab-kubernetes-ca", ca_key.public_key(), "conflab-kubernetes-ca", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate(
        "kube-apiserver", server_key.public_key(), "conflab-kubernetes-ca", ca_key, ca=False, ip=api["ip"]
    )
    pem = serialization.Encoding.PEM
    _write_private(Path(api["cert"]), server_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    _write_private(
        Path(api["key"]), server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    token = secrets.token_urlsafe(32)
    _write_private(Path(api["token_file"]), token.encode())
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "conflab",
                "cluster": {
                    "server": f"https://{api['ip']}:{api['port']}",
                    "certificate-authority-data": base64.b64encode(ca_cert.public_bytes(pem)).decode(),
                },
            }
        ],
        "users": [{"name": "conflab-admin", "user": {"token": token}}],
        "contexts": [{"name": "conflab-admin@conflab", "context": {"cluster": "conflab", "user": "conflab-admin"}}],
        "current-context": "conflab-admin@conflab",
    }
    _write_private(directory / "constellation-admin.conf", yaml.safe_dump(kubeconfig, sort_keys=False).encode())
