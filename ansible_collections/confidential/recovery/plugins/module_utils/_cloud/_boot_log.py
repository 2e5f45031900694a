# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""A node's serial console, read from its cloud, as the inventory's ``constellation_boot_log`` host variable says.

- ``gcp-serial-port``: ``instances.getSerialPortOutput`` (port 1), paged with ``start``/``next`` until caught up.
  Compute Engine keeps about 1 MB; when it has discarded what was asked for, it moves ``start`` forward, and the
  text is marked as truncated.
- ``aws-console-output``: ``GetConsoleOutput`` with ``Latest``: the newest 64 KB only (botocore decodes the base64).
- ``azure-boot-diagnostics``: ``retrieveBootDiagnosticsData`` gives a short-lived SAS URL of the serial-console
  blob, which is then read without an Authorization header (the SAS is the credential).
- ``openstack-console-output``: Nova's ``os-getConsoleOutput`` of the server, through openstacksdk with the cloud of
  ``clouds.yaml`` that discovery used (libvirt keeps the newest 100 KiB).

Credentials come as for discovery (Application Default Credentials or a service-account file on GCP; boto3's chain
on AWS); the host variable carries only where to ask, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import _aws as _discovery_aws
from . import _azure as _discovery_azure
from . import _gcp as _discovery_gcp
from . import _openstack as _discovery_openstack
from ._discovery import DiscoveryError

try:
    from ansible.module_utils.urls import open_url
except ImportError:  # pragma: no cover - part of ansible-core
    open_url = None

SAS_MINUTES = 5  # the blob URL's lifetime: long enough to read it once

MAX_PAGES = 64  # 64 pages of Compute Engine's at most 1 MB window: a bound, never reached in practice


@dataclass
class ConsoleText:
    text: str
    source: str
    truncated: bool = False  # the cloud no longer had the oldest part


def _serial_page(answer: dict, where: str) -> tuple[str, int, int]:
    """(contents, start, next) of one getSerialPortOutput answer; the offsets come as decimal strings (int64)."""
    contents = answer.get("contents") or ""
    try:
        first, following = int(answer.get("start") or 0), int(answer.get("next") or 0)
    except (TypeError, ValueError) as exc:
        raise DiscoveryError(f"the serial console of {where} came with malformed offsets") from exc
    if not isinstance(contents, str):
        raise DiscoveryError(f"the serial console of {where} is not text")
    return contents, first, following


def _gcp(boot_log: dict, timeout: float) -> ConsoleText:
    compute = _discovery_gcp.client_for(boot_log)
    where = f"{boot_log['project']}/{boot_log['zone']}/{boot_log['instance']}"
    chunks, start, truncated = [], 0, False
    try:
        for _page in range(MAX_PAGES):
            answer = compute.serial_port_output(
                boot_log["project"], boot_log["zone"], boot_log["instance"], start, timeout
            )
            contents, first, following = _serial_page(answer, where)
            truncated = truncated or first > start
            chunks.append(contents)
            if not contents or following <= start:
                break
            start = following
    except _discovery_gcp.api_exceptions.GoogleAPICallError as exc:
        raise _discovery_gcp.explain(
            exc, boot_log["project"], f"reading the serial console of {where}", "compute.instances.getSerialPortOutput"
        ) from exc
    return ConsoleText("".join(chunks), f"GCP serial port 1 of {where}", truncated)


def _aws(boot_log: dict, timeout: float) -> ConsoleText:
    session = _discovery_aws.session(profile=boot_log.get("profile"))
    ec2 = _discovery_aws.client(session, "ec2", boot_log["region"], boot_log.get("endpoint_url"), timeout=timeout)
    try:
        answer = ec2.get_console_output(InstanceId=boot_log["instance_id"], Latest=True)
    except (_discovery_aws.botocore.exceptions.BotoCoreError, _discovery_aws.botocore.exceptions.ClientError) as exc:
        raise _discovery_aws.explain(exc, "ec2:GetConsoleOutput", boot_log["region"]) from exc
    text = answer.get("Output") or ""
    # AWS keeps the newest 64 KB: a full buffer has most likely lost its beginning.
    return ConsoleText(text, f"EC2 console output of {boot_log['instance_id']}", len(text.encode()) >= 64 * 1024 - 1024)


def _azure(boot_log: dict, timeout: float) -> ConsoleText:
    compute = _discovery_azure.compute_for(boot_log)
    where = f"{boot_log['scale_set']}/{boot_log['instance_id']}"
    try:
        answer = compute.virtual_machine_scale_set_vms.retrieve_boot_diagnostics_data(
            boot_log["resource_group"],
            boot_log["scale_set"],
            boot_log["instance_id"],
            sas_uri_expiration_time_in_minutes=SAS_MINUTES,
        )
    except (_discovery_azure.HttpResponseError, _discovery_azure.ClientAuthenticationError) as exc:
        raise _discovery_azure.explain(exc, f"retrieving the boot diagnostics of {where}") from exc
    if not answer.serial_console_log_blob_uri:
        raise DiscoveryError(f"Azure has no serial console log for {where}: is boot diagnostics enabled?")
    try:
        text = open_url(answer.serial_console_log_blob_uri, timeout=timeout, http_agent="confidential.recovery").read()
    except Exception as exc:  # noqa: BLE001 - urllib, ssl and socket errors alike mean the read failed
        blob = answer.serial_console_log_blob_uri.split("?", 1)[0]  # never print the SAS
        raise DiscoveryError(
            f"reading the serial console blob of {where} ({blob}) failed: {str(exc).split('?', 1)[0]}"
        ) from exc
    return ConsoleText(text.decode("utf-8", errors="replace"), f"Azure boot diagnostics of {where}")


def _openstack(boot_log: dict, timeout: float) -> ConsoleText:
    text = _discovery_openstack.console_output(boot_log, timeout)
    return ConsoleText(text, f"OpenStack console output of server {boot_log.get('server_id')}")


READERS = {
    "gcp-serial-port": _gcp,
    "aws-console-output": _aws,
    "azure-boot-diagnostics": _azure,
    _discovery_openstack.CONSOLE_SOURCE: _openstack,
}


def read_console(boot_log: dict, timeout: float = 30.0) -> ConsoleText:
    reader = READERS.get((boot_log or {}).get("source"))
    if reader is None:
        raise DiscoveryError(
            f"no cloud console reader for boot_log source {(boot_log or {}).get('source')!r}; "
            f"known: {', '.join(sorted(READERS))}"
        )
    return reader(boot_log, timeout)
