# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""Backend of the attestation_info module: verify evidence and say, check by check, what held.

Four sources: a live endpoint (its aTLS certificate is captured during the handshake, then the connection is
dropped before any application byte is written), a saved aTLS certificate with the nonce it answered, a raw
SEV-SNP report with its signing certificate, and an Intel TDX quote with its collateral. Nothing is ever sent to a
peer.
"""

from __future__ import annotations

import base64
import binascii
import datetime

from ansible.module_utils.basic import missing_required_lib

from .._constellation._module import cluster_id_of, require_libraries, validator
from .._constellation._verify_service import VERIFY_PORT, VerifyServiceError, attest_running_node
from .._contrast._validators import contrast_validator
from .._contrast._workspace import Workspace, WorkspaceError
from .._evidence._amd_chain import ChainError, verify_signing_key
from .._evidence._checks import Check
from .._evidence._choices import LAB, LAB_WARNING
from .._evidence._snp_report import REPORT_SIZE, ReportFormatError, Tcb, parse_report
from .._evidence._snp_verify import SnpPolicy, check_report
from .._evidence._tdx_quote import QuoteFormatError, parse_quote
from .._evidence._tdx_verify import DCAP_QVL_IMPORT_ERROR, HAS_DCAP_QVL, TdxPolicy, check_quote
from .._module._common import read_option_file
from .._net._addresses import AddressError, check_host
from .._net._atls import AtlsError, AttestationFailed, connect

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - run() reports it through require_libraries
    pass


class EvidenceError(ValueError):
    """The evidence cannot be read at all (a missing file, an unreachable endpoint); the message says why."""


def _verdicts(order, failed: str | None, detail: str = "") -> list[dict]:
    checks, reached = [], True
    for name in order:
        if name == failed:
            checks.append(Check(name, False, detail).as_dict())
            reached = False
        else:
            checks.append(Check(name, True if reached else None, "" if reached else "not reached").as_dict())
    return checks


def _result(checks: list[dict], evidence: dict, source: str) -> dict:
    failed = [c for c in checks if c["verdict"] == "failed"]
    msg = "; ".join(f"{c['check']}: {c['detail']}" for c in failed) or "every check passed"
    return {
        "verdict": "failed" if failed else "passed",
        "checks": checks,
        "evidence": evidence,
        "source": source,
        "msg": msg,
    }


def evaluate_certificate(validator, cert_der: bytes, nonce: bytes, source: str) -> dict:
    """Run ``validator`` on an aTLS certificate and the nonce it answered; never raises on a failed check."""
    order = getattr(validator, "checks", ("attestation",))
    try:
        evidence = validator.validate(cert_der, nonce)
    except AttestationFailed as exc:
        return _result(_verdicts(order, getattr(exc, "check", order[0]), str(exc)), {}, source)
    return _result(_verdicts(order, None), evidence, source)


def evaluate_running_node(validator, host: str, port: int, timeout: float) -> dict:
    """A running node's document from its verification service, checked as evaluate_certificate checks a waiting
    node's; never raises on a failed check, EvidenceError when there is no document."""
    order = getattr(validator, "checks", ("attestation",))
    source = f"verification service {host}:{port}"
    try:
        evidence = attest_running_node(validator, host, port, timeout)
    except VerifyServiceError as exc:
        raise EvidenceError(str(exc)) from exc
    except AttestationFailed as exc:
        return _result(_verdicts(order, getattr(exc, "check", order[0]), str(exc)), {}, source)
    return _result(_verdicts(order, None), evidence, source)


class _CaptureCertificate:
    """A validator that keeps the peer's certificate and the nonce, then aborts the handshake: nothing is sent."""

    def __init__(self) -> None:
        self.cert_der: bytes | None = None
        self.nonce: bytes | None = None

    def validate(self, cert_der: bytes, nonce: bytes) -> dict:
        self.cert_der, self.nonce = cert_der, nonce
        raise AttestationFailed("captured for offline verification")


def evaluate_endpoint(
    validator, host: str, port: int, timeout: float, nonce_in_alpn: bool = False, dial=None, source: str = ""
) -> dict:
    """``nonce_in_alpn``: a Contrast Coordinator takes the nonce in ALPN, a Constellation node in SNI. ``dial``: a
    port-forward's stream instead of TCP, named by ``source``."""
    capture = _CaptureCertificate()
    where = source or f"{host}:{port}"
    try:
        connect(host, port, capture, timeout, nonce_in_alpn=nonce_in_alpn, dial=dial)
    except AttestationFailed:
        pass
    except AtlsError as exc:
        raise EvidenceError(f"{where}: {exc}" if dial else str(exc)) from exc
    if capture.cert_der is None:
        raise EvidenceError(f"{where} presented no certificate")
    return evaluate_certificate(validator, capture.cert_der, capture.nonce, f"endpoint {where}")


def _through_port_forward(module, validator, timeout: float) -> dict:
    """Attest a Coordinator through a port-forward to a forwarder pod (the kubernetes client, imported only here)."""
    from .._kube._auth import KubeAuth
    from .._kube._client import HAS_KUBERNETES
    from .._kube._cluster_health import ClusterUnreachable, api_client
    from .._kube._port_forward import PortForwardError, Tunnel, dialer, find_forwarder

    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    forward = module.params["port_forward"]
    try:
        client = api_client(KubeAuth.from_params(module.params), timeout)
        pod = find_forwarder(client, forward["namespace"], forward["pod"], forward["selector"], timeout)
    except (ClusterUnreachable, PortForwardError) as exc:
        raise EvidenceError(str(exc)) from exc
    if pod is None:
        wanted = forward["pod"] or forward["selector"] or "port-forwarder-coordinator"
        raise EvidenceError(f"no Ready pod {wanted} in namespace {forward['namespace']} to port-forward to")
    tunnel = Tunnel(forward["namespace"], pod, forward["port"])
    return evaluate_endpoint(
        validator, "localhost", tunnel.port, timeout, True, dialer(client, tunnel, timeout), tunnel.describe()
    )


def read_report(data: bytes) -> bytes:
    """A raw report (1184 bytes or more: Azure's HCL report appends its own), or the same in base64."""
    if len(data) >= REPORT_SIZE and not data.strip().isascii():
        return data
    try:
        decoded = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return data
    return decoded if len(decoded) >= REPORT_SIZE else data


def _tcb(value: dict | None, what: str) -> Tcb | None:
    if not value:
        return None
    parts = []
    for name in ("bootloader", "tee", None, None, None, None, "snp", "microcode"):
        try:
            number = int(value.get(name, 0)) if name else 0
        except (TypeError, ValueError) as exc:
            raise EvidenceError(f"{what}.{name} must be a number, got {value.get(name)!r}") from exc
        if not 0 <= number <= 255:
            raise EvidenceError(f"{what}.{name} must be from 0 to 255, got {number}")
        parts.append(number)
    return Tcb.from_parts(parts)


def _hex(value: str | None, what: str) -> bytes | None:
    if value is None:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise EvidenceError(f"{what} is not hex: {value!r}") from exc


def snp_policy(reference: dict) -> SnpPolicy:
    """The checks the user asked for, from the module's snp_reference option."""
    return SnpPolicy(
        allow_debug=reference["allow_debug"],
        allow_migrate_ma=reference["allow_migrate_ma"],
        allow_smt=reference["allow_smt"],
        vmpl=reference["vmpl"],
        minimum_tcb=_tcb(reference.get("minimum_tcb"), "snp_reference.minimum_tcb"),
        minimum_launch_tcb=_tcb(reference.get("minimum_launch_tcb"), "snp_reference.minimum_launch_tcb"),
        permit_provisional_firmware=reference["permit_provisional_firmware"],
        report_data=_hex(reference.get("report_data"), "snp_reference.report_data"),
        host_data=_hex(reference.get("host_data"), "snp_reference.host_data"),
        measurement=_hex(reference.get("measurement"), "snp_reference.measurement"),
        trusted_id_key_digests=tuple(
            _hex(digest, "snp_reference.trusted_id_key_digests")
            for digest in reference.get("trusted_id_key_digests") or ()
        ),
        require_id_block=bool(reference.get("trusted_id_key_digests")),
    )


def tdx_policy(reference: dict) -> TdxPolicy:
    """The checks the user asked for, from the module's tdx_reference option."""

    def value(name: str) -> bytes | None:
        return _hex(reference.get(name), f"tdx_reference.{name}")

    rtmrs = [_hex(text, "tdx_reference.rtmrs") for text in reference.get("rtmrs") or []] + [None] * 4
    names = (
        "mr_td",
        "mr_seam",
        "td_attributes",
        "xfam",
        "mr_config_id",
        "mr_owner",
        "mr_owner_config",
        "report_data",
        "minimum_tee_tcb_svn",
    )
    return TdxPolicy(
        rtmrs=tuple(rtmrs[:4]),
        allow_debug=reference["allow_debug"],
        accepted_tcb_statuses=tuple(reference["accepted_tcb_statuses"]),
        **{name: value(name) for name in names},
    )


def evaluate_tdx_quote(
    quote_bytes: bytes,
    collateral: str | None,
    trust_anchor: bytes | None,
    policy: TdxPolicy,
    now: datetime.datetime,
    source: str,
) -> dict:
    """Parse the quote, then every check of ``policy``: chain, signatures, QE binding, TCB status, reference values."""
    try:
        quote = parse_quote(quote_bytes)
    except QuoteFormatError as exc:
        return _result([Check("quote_format", False, str(exc)).as_dict()], {}, source)
    checks = [Check("quote_format", True)] + check_quote(quote, collateral, policy, now, trust_anchor)
    return _result([c.as_dict() for c in checks], dict(quote.summary(), variant="tdx"), source)


def evaluate_snp_report(
    report_bytes: bytes,
    signing_key: bytes,
    intermediate: bytes | None,
    trust_anchor: bytes | None,
    policy: SnpPolicy,
    now: datetime.datetime,
    source: str,
) -> dict:
    """Parse the report, check its signing key's chain, then every check of ``policy``, each with its verdict."""
    try:
        report = parse_report(read_report(report_bytes))
    except ReportFormatError as exc:
        return _result([Check("report_format", False, str(exc)).as_dict()], {}, source)
    evidence = dict(report.summary(), variant="sev-snp")
    checks = [Check("report_format", True)]
    try:
        key = verify_signing_key(signing_key, now, intermediate_bytes=intermediate, trust_anchor=trust_anchor)
    except ChainError as exc:
        checks.append(Check("certificate_chain", False, str(exc)))
        return _result([c.as_dict() for c in checks], evidence, source)
    root = "the explicitly trusted root" if trust_anchor else f"AMD's pinned ARK-{key.product}"
    checks.append(Check("certificate_chain", True, f"{key.kind.upper()} -> {root}, valid at {now:%Y-%m-%d %H:%M} UTC"))
    checks.extend(check_report(report, key, policy))
    evidence.update(product=key.product, signer=key.kind, signing_key_tcb=key.tcb.as_dict(), csp_id=key.csp_id)
    return _result([c.as_dict() for c in checks], evidence, source)


def _now(module) -> datetime.datetime:
    text = module.params.get("now")
    if not text:
        return datetime.datetime.now(datetime.UTC)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        module.fail_json(msg=f"now must be an ISO 8601 time such as 2026-11-25T00:00:00Z, got {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _nonce(module) -> bytes:
    try:
        return bytes.fromhex(module.params["nonce"])
    except ValueError:
        module.fail_json(msg="nonce must be hex")
    return b""


def _certificate_der(module) -> bytes:
    data = read_option_file(module, "certificate")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return data
    try:
        return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    except ValueError as exc:
        module.fail_json(msg=f"certificate {module.params['certificate']} is not a PEM certificate: {exc}")
    return b""


NODE_PORT, COORDINATOR_PORT = 9999, 1313
PORTS = {
    "constellation_node": NODE_PORT,
    "contrast_coordinator": COORDINATOR_PORT,
    "constellation_verify_service": VERIFY_PORT,
}


def _coordinator_validator(module, now: datetime.datetime):
    """Contrast's validator for the Coordinator, with the policy hashes and reference values of the manifest."""
    params = module.params
    if params["attestation"] == LAB:
        module.warn(LAB_WARNING)
    try:
        manifest = Workspace(params["manifest"])
        hashes = manifest.coordinator_policy_hashes(params.get("coordinator_policy_hash"))
        return contrast_validator(
            params["attestation"],
            hashes,
            manifest.reference_values(),
            now=lambda: now,
            trust_anchor=read_option_file(module, "attestation_trust_anchor"),
        )
    except WorkspaceError as exc:
        module.fail_json(msg=str(exc))
    except NotImplementedError as exc:
        module.fail_json(msg=str(exc))
    return None


def run(module) -> None:
    params = module.params
    require_libraries(module, ("cryptography",))
    if params["tdx_quote"] and not HAS_DCAP_QVL:
        module.fail_json(msg=missing_required_lib("dcap-qvl>=0.7.0"), exception=str(DCAP_QVL_IMPORT_ERROR))
    if params["cluster_id"] and not (
        params["endpoint"] and params["peer"] == "constellation_verify_service" and params["attestation"] != LAB
    ):
        module.fail_json(
            msg="cluster_id is checked only against a running node's measurements: it needs an endpoint with "
            "peer=constellation_verify_service and a measured attestation variant, not lab"
        )
    now = _now(module)
    try:
        if params["tdx_quote"]:
            collateral = read_option_file(module, "tdx_collateral")
            result = evaluate_tdx_quote(
                read_option_file(module, "tdx_quote"),
                collateral.decode() if collateral else None,
                read_option_file(module, "attestation_trust_anchor"),
                tdx_policy(params["tdx_reference"]),
                now,
                f"TDX quote {params['tdx_quote']}",
            )
        elif params["snp_report"]:
            result = evaluate_snp_report(
                read_option_file(module, "snp_report"),
                read_option_file(module, "snp_signing_key"),
                read_option_file(module, "snp_intermediate"),
                read_option_file(module, "attestation_trust_anchor"),
                snp_policy(params["snp_reference"]),
                now,
                f"SEV-SNP report {params['snp_report']}",
            )
        elif params["certificate"]:
            result = evaluate_certificate(
                validator(module, lambda: now),
                _certificate_der(module),
                _nonce(module),
                f"certificate {params['certificate']}",
            )
        elif params["port_forward"]:
            if params["peer"] != "contrast_coordinator":
                module.fail_json(
                    msg="port_forward reaches a Contrast Coordinator (peer=contrast_coordinator) only; a node's "
                    "recovery server and verification service are reached at their own addresses"
                )
            result = _through_port_forward(module, _coordinator_validator(module, now), params["timeout"])
        else:
            host = check_host(params["endpoint"], "endpoint")
            peer = params["peer"]
            port = params["port"] or PORTS[peer]
            if not 1 <= port <= 65535:
                module.fail_json(msg=f"port must be from 1 to 65535, got {port}")
            if peer == "constellation_verify_service":
                running = validator(module, lambda: now, cluster_id=cluster_id_of(module))
                result = evaluate_running_node(running, host, port, params["timeout"])
            else:
                coordinator = peer == "contrast_coordinator"
                peer_validator = _coordinator_validator(module, now) if coordinator else validator(module, lambda: now)
                result = evaluate_endpoint(peer_validator, host, port, params["timeout"], nonce_in_alpn=coordinator)
    except (EvidenceError, AddressError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)
