# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The JoinService of an unlocked control-plane node (mutual aTLS; ansible_collections/confidential/recovery/docs/constellation-protocol.md, Flow).

It issues rejoin tickets only while etcd has quorum, as the real one can only answer when the
cluster's key service (backed by etcd) is up. Joiners attest with the dummy document; a node switched to a wrong
measurement (`conflab break --fault NODE=wrong-measurement`) is refused, as upstream's JoinService refuses a node
whose measurements differ from the cluster's.
"""

from __future__ import annotations

import uuid as uuidlib
from concurrent import futures

import grpc

from .. import faultfile
from .._generated import join_pb2
from ..atls_server import AtlsTerminator
from .etcd_member import etcd_healthy
from .keys import MasterSecret
from .node_certs import DummyAttestationIssuer, verify_dummy_cert


class JoinService:
    def __init__(self, lab: dict, node: dict):
        self.lab, self.node = lab, node
        self._grpc = None
        self._terminator = None

    def start(self) -> None:
        handler = grpc.unary_unary_rpc_method_handler(
            self._issue_rejoin_ticket,
            request_deserializer=join_pb2.IssueRejoinTicketRequest.FromString,
            response_serializer=join_pb2.IssueRejoinTicketResponse.SerializeToString,
        )
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("join.API", {"IssueRejoinTicket": handler}),)
        )
        backend_port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._grpc = server
        self._terminator = AtlsTerminator(
            self.node["ip"],
            self.lab["load_balancer"]["join_port"],
            backend_port,
            DummyAttestationIssuer().issue_plain,
            request_client_cert=True,
        )
        self._terminator.start()

    def stop(self) -> None:
        if self._terminator is not None:
            self._terminator.stop()
        if self._grpc is not None:
            self._grpc.stop(grace=1)

    def _measured_wrong(self, disk_uuid: str) -> bool:
        switches = faultfile.read(self.lab["dir"])
        names = (switches.get("wrong_measurement") or []) + (switches.get("malformed_evidence") or [])
        return any(node["name"] in names and node.get("disk_uuid") == disk_uuid for node in self.lab["nodes"])

    def _issue_rejoin_ticket(self, request, context):
        client_cert = self._terminator.client_cert_for_peer(context.peer())
        if client_cert is None:
            context.abort(grpc.StatusCode.INTERNAL, "no client certificate")
        try:
            # The client cannot see our nonce before it sends its certificate (no client-cert
            # callback in Python's TLS stacks), so the lab checks the document without the nonce.
            verify_dummy_cert(client_cert)
        except ValueError as exc:
            context.abort(grpc.StatusCode.INTERNAL, f"validating client attestation: {exc}")
        try:
            disk_uuid = str(uuidlib.UUID(request.disk_uuid))
        except ValueError:
            context.abort(grpc.StatusCode.INTERNAL, f"invalid disk UUID {request.disk_uuid!r}")
        if self._measured_wrong(disk_uuid):
            context.abort(
                grpc.StatusCode.INTERNAL, "validating client attestation: untrusted measurement value at index 4"
            )
        if not etcd_healthy(self.node["etcd_client_url"]):
            context.abort(grpc.StatusCode.INTERNAL, "unable to get key: etcd cluster has no quorum")
        master = MasterSecret.load(self.lab["cluster_secret_file"])
        return join_pb2.IssueRejoinTicketResponse(
            state_disk_key=master.disk_key(disk_uuid), measurement_secret=master.measurement_secret()
        )
