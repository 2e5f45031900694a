# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# This file is PRIVATE to the confidential.recovery collection: it may change in any release, without notice.
# Do not import it from other collections or from your own plugins and modules.
"""The ``Disk UUID: <uuid>`` line that the bootstrapper of CLI v2.0 to v2.15 sent to the cloud's logging service.

The line is written after a successful unlock, and the UUID does not change across boots, so an old entry names
the disk of a node that now waits. v2.16 removed the cloud loggers; the readers then find nothing and say so.

- GCP: the log ``constellation-boot-log`` of the project, through google-cloud-logging (REST transport).
- AWS (v2.2 to v2.15): the CloudWatch group ``<name>``, one stream per instance ID, through boto3.
- Azure: the Application Insights component ``<name>`` (v2.2 to v2.15) or ``constellation-insights-<uid>``
  (v2.0 and v2.1), its ``traces`` table, through azure-monitor-query.

``<name>`` is the Terraform name of the cluster (``infrastructure.name`` of the state file, which is the
configured name joined to the uid). How each service tells one node's entries from another's was never written
down upstream; the guesses live in the ``_*_NODE_*`` constants and functions below, one per cloud.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from . import _aws as _discovery_aws
from . import _azure as _discovery_azure
from . import _gcp as _discovery_gcp
from ._discovery import DiscoveryError

try:
    from google.cloud import logging as gcp_logging

    HAS_GCP_LOGGING = True
    GCP_LOGGING_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_GCP_LOGGING = False
    GCP_LOGGING_IMPORT_ERROR = _exc

try:
    from azure.monitor.query import LogsQueryClient, LogsQueryStatus

    HAS_AZURE_QUERY = True
    AZURE_QUERY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only without the dependency
    HAS_AZURE_QUERY = False
    AZURE_QUERY_IMPORT_ERROR = _exc

RETENTION = datetime.timedelta(days=30)  # the log sinks Constellation created kept 30 days
GCP_LOG_NAME = "constellation-boot-log"
# Unconfirmed upstream: Go's cloud.google.com/go/logging detects the gce_instance resource, whose instance_id
# label is the numeric instance ID; Application Insights' common property instance-name is the computer name.
_GCP_NODE_LABEL = "resource.labels.instance_id"
_AZURE_NODE_DIMENSION = "instance-name"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass
class LogText:
    text: str
    source: str


def _safe(value: str, what: str) -> str:
    if not _SAFE_NAME.match(value or ""):
        raise DiscoveryError(f"the {what} {value!r} is not a cloud resource name")
    return value


def _gcp(boot_log: dict, timeout: float) -> LogText:
    if not HAS_GCP_LOGGING:
        raise DiscoveryError(f"GCP cloud logging needs google-cloud-logging: {GCP_LOGGING_IMPORT_ERROR}")
    project, instance_id = boot_log["project"], _safe(str(boot_log.get("instance_id") or ""), "GCP instance ID")
    endpoint = boot_log.get("logging_endpoint")
    creds = _discovery_gcp.credentials(
        boot_log.get("auth_kind") or "application", boot_log.get("service_account_file"), endpoint
    )
    client = gcp_logging.Client(
        project=project,
        credentials=creds,
        _use_grpc=False,
        client_options={"api_endpoint": endpoint} if endpoint else None,
    )
    since = (datetime.datetime.now(datetime.UTC) - RETENTION).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Without a timestamp term the library would look back one day only.
    expression = (
        f'logName="projects/{project}/logs/{GCP_LOG_NAME}" AND {_GCP_NODE_LABEL}="{instance_id}" '
        f'AND textPayload:"Disk UUID" AND timestamp>="{since}"'
    )
    where = f"log {GCP_LOG_NAME} of project {project} (instance {instance_id})"
    try:
        entries = client.list_entries(
            resource_names=[f"projects/{project}"], filter_=expression, order_by=gcp_logging.DESCENDING, max_results=1
        )
        lines = [str(entry.payload) for entry in entries]
    except _discovery_gcp.api_exceptions.GoogleAPICallError as exc:
        raise _discovery_gcp.explain(exc, project, f"reading the {where}", "logging.logEntries.list") from exc
    return LogText("\n".join(lines), f"GCP {where}")


def _aws(boot_log: dict, timeout: float) -> LogText:
    group = _safe(boot_log.get("log_name") or "", "CloudWatch log group")
    session = _discovery_aws.session(profile=boot_log.get("profile"))
    logs = _discovery_aws.client(session, "logs", boot_log["region"], boot_log.get("endpoint_url"), timeout=timeout)
    start = int((datetime.datetime.now(datetime.UTC) - RETENTION).timestamp() * 1000)
    lines = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, logStreamNames=[boot_log["instance_id"]], filterPattern='"Disk UUID"', startTime=start
        )
        for page in pages:
            lines.extend(event.get("message", "") for event in page.get("events") or [])
    except _discovery_aws.botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise DiscoveryError(
                f"no CloudWatch log group {group} (or no stream {boot_log['instance_id']}) in "
                f"{boot_log['region']}: only clusters of CLI v2.2 to v2.15 had one"
            ) from exc
        raise _discovery_aws.explain(exc, "logs:FilterLogEvents", boot_log["region"]) from exc
    except _discovery_aws.botocore.exceptions.BotoCoreError as exc:
        raise _discovery_aws.explain(exc, "logs:FilterLogEvents", boot_log["region"]) from exc
    return LogText("\n".join(lines), f"CloudWatch group {group}, stream {boot_log['instance_id']}")


def _azure_components(boot_log: dict) -> list[str]:
    names = [boot_log.get("log_name"), f"constellation-insights-{boot_log.get('uid')}" if boot_log.get("uid") else None]
    return [_safe(name, "Application Insights name") for name in names if name]


def _azure(boot_log: dict, timeout: float) -> LogText:
    if not HAS_AZURE_QUERY:
        raise DiscoveryError(f"Azure cloud logging needs azure-monitor-query: {AZURE_QUERY_IMPORT_ERROR}")
    computer = _safe(boot_log.get("computer_name") or "", "computer name")
    base_url = boot_log.get("logs_endpoint")
    cred = _discovery_azure.credential(boot_log.get("auth_source") or "auto", base_url)
    extra = {"endpoint": base_url, "authentication_policy": _discovery_azure.SansIOHTTPPolicy()} if base_url else {}
    client = LogsQueryClient(cred, retry_total=4, **extra)
    query = (
        f'traces | where message contains "Disk UUID" '
        f'| where tostring(customDimensions["{_AZURE_NODE_DIMENSION}"]) == "{computer}" '
        f"| order by timestamp desc | take 1 | project message"
    )
    problems = []
    for component in _azure_components(boot_log):
        resource = (
            f"/subscriptions/{boot_log['subscription_id']}/resourceGroups/{boot_log['resource_group']}"
            f"/providers/Microsoft.Insights/components/{component}"
        )
        try:
            answer = client.query_resource(resource, query, timespan=RETENTION, server_timeout=int(timeout))
        except (_discovery_azure.HttpResponseError, _discovery_azure.ClientAuthenticationError) as exc:
            if getattr(exc, "status_code", None) == 404:
                problems.append(f"no Application Insights component {component}")
                continue
            raise _discovery_azure.explain(exc, f"querying Application Insights {component}") from exc
        if answer.status != LogsQueryStatus.SUCCESS:
            problems.append(f"Application Insights {component} answered only partly")
            continue
        lines = [str(row[0]) for table in answer.tables for row in table.rows]
        return LogText("\n".join(lines), f"Application Insights {component} (traces of {computer})")
    raise DiscoveryError("; ".join(problems) + ": only clusters of CLI v2.0 to v2.15 had one")


READERS = {"gcp-serial-port": _gcp, "aws-console-output": _aws, "azure-boot-diagnostics": _azure}


def read_cloud_log(boot_log: dict, timeout: float = 30.0) -> LogText:
    """The node's ``Disk UUID`` lines from its cloud's logging service (the newest last or alone)."""
    if (boot_log or {}).get("source") == "openstack-console-output":
        raise DiscoveryError("Constellation never logged disk UUIDs to a logging service on OpenStack")
    reader = READERS.get((boot_log or {}).get("source"))
    if reader is None:
        raise DiscoveryError(f"no cloud logging reader for boot_log source {(boot_log or {}).get('source')!r}")
    return reader(boot_log, timeout)
