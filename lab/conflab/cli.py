# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""``conflab``: start, break, inspect and stop the lab twin."""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import faultfile, processes, workspace_faults
from .constellation.etcd_member import etcd_healthy
from .constellation.keys import MasterSecret
from .contrast import replicas as coordinator_replicas
from .contrast.replicas import MAX_REPLICAS, UPSTREAM_PEER_INTERVAL
from .faults import KINDS as FAULT_KINDS
from .labdir import LabError, build_config, check_prefix, write_lab_files

NODE_MODULE = "conflab.constellation.node"
FAULT_MODULE = "conflab.faults"
READY_STATES = {"control-plane": "unlocked", "worker": "joined"}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_config(directory: Path) -> dict:
    path = directory / "lab.json"
    if not path.exists():
        raise LabError(f"no lab in {directory} (no lab.json): run `conflab up --dir {directory}` first")
    return json.loads(path.read_text())


def node_state(config: dict, node: dict) -> str:
    directory = Path(config["dir"])
    if not processes.is_running(directory, node["name"]):
        return "down"
    try:
        return json.loads((directory / "nodes" / node["name"] / "status.json").read_text())["state"]
    except (OSError, ValueError, KeyError):
        return "booting"


def has_quorum(config: dict) -> bool:
    return any(etcd_healthy(n["etcd_client_url"]) for n in config["nodes"] if n["role"] == "control-plane")


def wait_until(predicate, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_report = 0.0
    while time.monotonic() < deadline:
        if predicate():
            return
        if time.monotonic() - last_report > 10:
            progress(f"waiting for {what} ...")
            last_report = time.monotonic()
        time.sleep(0.3)
    raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")


def start_node(config: dict, node: dict, boot: str) -> None:
    directory = Path(config["dir"])
    status = directory / "nodes" / node["name"] / "status.json"
    status.unlink(missing_ok=True)
    processes.spawn(
        directory,
        node["name"],
        NODE_MODULE,
        "--name",
        node["name"],
        "--boot",
        boot,
        log=directory / "nodes" / node["name"] / "process.log",
    )


def contrast_control():
    from .contrast import control  # imported lazily: the Coordinator is optional

    return control


def cmd_up(args) -> int:
    try:
        return _up(args)
    except BaseException:
        progress("lab did not come up; stopping what was started")
        stop_all(args.dir.resolve())
        raise


def _up(args) -> int:
    directory = args.dir.resolve()
    if directory.joinpath("lab.json").exists() and processes.running_names(directory):
        if args.reuse:
            print(f"lab already runs in {directory}: reusing it")
            return 0
        raise LabError(f"a lab already runs in {directory}: `conflab down --dir {directory}` first")
    directory.mkdir(parents=True, exist_ok=True)
    forget_previous_lab(directory)
    master = MasterSecret(secrets.token_bytes(32), secrets.token_bytes(32))
    config = build_config(
        directory,
        nodes=args.nodes,
        workers=args.workers,
        prefix=check_prefix(args.ip_prefix),
        protocol=args.protocol,
        rejoin_interval=args.rejoin_interval,
        lb_probe_interval=args.lb_probe_interval,
        log_format=args.log_format,
        coordinator_paths=args.coordinator_paths,
        measurement_salt=secrets.token_bytes(32),
        attestation=args.attestation,
        name=args.name,
        lb_unhealthy_threshold=args.lb_unhealthy_threshold,
    )
    config["kube_api"]["enabled"] = not args.no_kubeapi
    config["coordinator"]["enabled"] = not args.no_contrast
    config["coordinator"]["load_balancer"] = args.coordinator_service == "load-balancer"
    if not 1 <= args.coordinators <= MAX_REPLICAS:
        raise LabError(f"--coordinators must be 1..{MAX_REPLICAS}")
    if args.coordinators > 1 and args.no_kubeapi:
        raise LabError("several Coordinators find each other through the Kubernetes API: drop --no-kubeapi")
    config["coordinator"].update(replicas=args.coordinators, peer_interval=args.coordinator_peer_interval)
    write_lab_files(config, master, contrast=not args.no_contrast, kubeapi=not args.no_kubeapi)
    if not args.no_kubeapi:
        from .kubeapi.credentials import write_credentials

        write_credentials(config)
        processes.spawn(directory, "kubeapi", "conflab.kubeapi", log=directory / "kubeapi.log")
    for node in config["nodes"]:
        start_node(config, node, "initial")
    progress(f"starting {len(config['nodes'])} nodes ...")
    wait_until(
        lambda: all(node_state(config, n) == READY_STATES[n["role"]] for n in config["nodes"]) and has_quorum(config),
        "every node up and etcd quorum",
        args.timeout,
    )
    processes.spawn(directory, "loadbalancer", "conflab.loadbalancer", log=directory / "loadbalancer.log")
    cloud = config["cloud"]
    processes.spawn(directory, "gce-api", "conflab.gce_api", log=directory / "gce-api.log")
    wait_until(lambda: _accepts(cloud["ip"], cloud["port"]), "the lab's Compute API", 30)
    if not args.no_contrast:
        contrast_control().up(config)
    lb = config["load_balancer"]
    print(f"lab up in {directory}: {args.nodes} control-plane, {args.workers} worker nodes, protocol {args.protocol}")
    print(f"  cluster endpoint {lb['ip']} (recovery {lb['recovery_port']}, join {lb['join_port']})")
    print(
        f"  compute    http://{cloud['ip']}:{cloud['port']} (project {cloud['project']}, for the inventory's gcp provider)"
    )
    print(f"  inventory  {directory / 'inventory.constellation.yml'}")
    print(f"  variables  {directory / 'recover-vars.yml'}")
    return 0


LAB_ARTEFACTS = ("nodes", ".cluster", "pids", "contrast", "contrast-lab")


def forget_previous_lab(directory: Path) -> None:
    """A new lab has a new master secret: disks and workspaces of an old lab here would never unlock, and the old
    lab's fault switches and swapped workspace files must not break the new one."""
    for name in LAB_ARTEFACTS:
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
    (directory / faultfile.FILE).unlink(missing_ok=True)
    for path in directory.glob("*" + workspace_faults.ORIGINAL_SUFFIX):
        path.unlink()


def select_nodes(config: dict, spec: str | None) -> list[dict]:
    control_plane = [n for n in config["nodes"] if n["role"] == "control-plane"]
    if not spec or spec == "none":
        return []
    if spec == "all":
        return control_plane
    if spec.isdigit():
        count = int(spec)
        if count > len(control_plane):
            raise LabError(f"the lab has only {len(control_plane)} control-plane nodes")
        return control_plane[:count]
    by_name = {n["name"]: n for n in config["nodes"]}
    unknown = [name for name in spec.split(",") if name not in by_name]
    if unknown:
        raise LabError(f"unknown node(s): {', '.join(unknown)}")
    return [by_name[name] for name in spec.split(",")]


# Faults a running node picks up from faults.json, without being replaced by a fault server.
SWITCHED_FAULTS = ("reboot-after-push", "wrong-measurement", "malformed-evidence", "etcd-fails")
# The faults that change a node's attestation document: only a lab that attests with measurements has one.
EVIDENCE_FAULTS = ("wrong-measurement", "malformed-evidence")
MEASURED_ATTESTATIONS = ("qemu-vtpm", "snp")


def _add_to_switch(directory: Path, switch: str, name: str) -> None:
    names = set(faultfile.read(directory).get(switch) or []) | {name}
    faultfile.update(directory, **{switch: sorted(names)})


def parse_faults(config: dict, specs: list[str]) -> list[tuple[dict, str]]:
    by_name = {n["name"]: n for n in config["nodes"] if n["role"] == "control-plane"}
    parsed = []
    for spec in specs:
        name, _, kind = spec.partition("=")
        if name not in by_name:
            raise LabError(f"--fault {spec}: {name!r} is not a control-plane node of this lab")
        if kind not in FAULT_KINDS + SWITCHED_FAULTS:
            raise LabError(f"--fault {spec}: choose one of {', '.join(FAULT_KINDS + SWITCHED_FAULTS)}")
        if kind in EVIDENCE_FAULTS and config.get("attestation") not in MEASURED_ATTESTATIONS:
            raise LabError(
                f"--fault {spec}: the lab must attest with measurements (conflab up --attestation "
                f"{' or '.join(MEASURED_ATTESTATIONS)}); this one uses {config.get('attestation')}"
            )
        parsed.append((by_name[name], kind))
    return parsed


def fault_name(node: dict) -> str:
    return f"fault-{node['name']}"


def start_fault(config: dict, node: dict, kind: str) -> None:
    directory = Path(config["dir"])
    processes.stop(directory, node["name"])
    processes.spawn(
        directory,
        fault_name(node),
        FAULT_MODULE,
        "--name",
        node["name"],
        "--kind",
        kind,
        log=directory / "nodes" / node["name"] / "fault.log",
    )
    wait_until(lambda: _accepts(node["ip"], config["recovery_port"]), f"the {kind} server of {node['name']}", 30)


def _accepts(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def cmd_break(args) -> int:
    config = load_config(args.dir.resolve())
    directory = Path(config["dir"])
    faults = parse_faults(config, args.fault or [])
    for node in select_nodes(config, args.kill):
        processes.stop(directory, node["name"])
        progress(f"killed {node['name']}")
    rebooted = select_nodes(config, args.reboot)
    processes.stop_many(directory, [node["name"] for node in rebooted])
    for node in rebooted:
        start_node(config, node, "reboot")
        progress(f"rebooted {node['name']}: state disk locked")
    wait_until(
        lambda: all(node_state(config, n) in ("waiting", "unlocked", "joined") for n in rebooted),
        "rebooted nodes to wait for their key",
        args.timeout,
    )
    for node, kind in faults:
        if kind == "reboot-after-push":
            _add_to_switch(directory, "reboot_after_push", node["name"])
            progress(f"{node['name']} will reboot once, right after it receives a key")
        elif kind == "wrong-measurement":
            _add_to_switch(directory, "wrong_measurement", node["name"])
            progress(f"{node['name']} now presents a wrong measurement at PCR 4")
        elif kind == "malformed-evidence":
            _add_to_switch(directory, "malformed_evidence", node["name"])
            progress(f"{node['name']} now presents a malformed attestation document (PCR values as a list)")
        elif kind == "etcd-fails":
            _add_to_switch(directory, "etcd_fails", node["name"])
            progress(f"{node['name']} takes its key, but its etcd member crashes at every start")
        else:
            start_fault(config, node, kind)
            progress(f"{node['name']} replaced by a {kind} recovery server")
    if args.kubeapi == "down":
        processes.stop(directory, "kubeapi")
        progress("stopped the Kubernetes API")
    elif args.kubeapi == "stall":
        faultfile.update(directory, kubeapi="stall")
        progress("the Kubernetes API accepts connections and never answers")
    if args.workloads == "fail":
        faultfile.update(directory, workloads="fail")
        progress("patching workloads fails with HTTP 500")
    if args.lb == "stale-pool":
        faultfile.update(directory, lb="stale-pool")
        progress("the load balancer keeps every control-plane node in its pool, healthy or not")
    elif args.lb == "flapping":
        faultfile.update(directory, lb="flapping", lb_flap_period=args.lb_flap_period)
        progress(f"the load balancer drops every backend and takes it back, every {args.lb_flap_period:g} s")
    if args.manifest_format == "names":
        contrast_control().rewrite_manifest_with_names(config)
        progress("the workspace's manifest.json now has the Policies form of Contrast v0.7 (hash to names, no roles)")
    if args.coordinator_presents:
        try:
            only_on = coordinator_replicas.select(config, args.presents_on) if args.presents_on else None
        except ValueError as exc:
            raise LabError(f"--presents-on: {exc}") from exc
        faultfile.update(directory, coordinator_presents=args.coordinator_presents, coordinator_presents_on=only_on)
        where = f" on replica(s) {', '.join(map(str, only_on))}" if only_on is not None else ""
        progress(
            f"the Coordinator now presents the policy hash of workload {args.coordinator_presents}{where} (an impostor)"
        )
    if args.coordinator_peers == "unreachable":
        faultfile.update(directory, coordinator_peers="unreachable")
        progress("no Coordinator reaches a peer's mesh API: a waiting one stays in recovery mode")
    if args.coordinator_guards_peers:
        faultfile.update(directory, coordinator_guards_peers=True)
        progress(
            "a Coordinator refuses a user recovery while ready peers exist, unless Force (later Contrast releases)"
        )
    if args.restart_coordinator:
        try:
            chosen = coordinator_replicas.select(config, args.restart_coordinator)
        except ValueError as exc:
            raise LabError(f"--restart-coordinator: {exc}") from exc
        contrast_control().restart(config, chosen)
        if coordinator_replicas.count(config) == 1:
            progress("restarted the Contrast Coordinator: it waits in recovery mode")
        else:
            names = ", ".join(coordinator_replicas.pod_name(r) for r in chosen)
            progress(f"restarted Coordinator(s) {names}: each waits in recovery mode, for a ready peer or the seed")
    if args.new_pods == "unschedulable":
        faultfile.update(directory, new_pods="unschedulable")
        progress("pods created through the API stay Pending: no node has room for them")
    for kind in args.workspace or []:
        path = workspace_faults.apply(directory, kind)
        progress(
            f"{path} now holds the file of another {'cluster' if kind == 'foreign-master-secret' else 'deployment'}"
        )
    return 0


def cmd_repair(args) -> int:
    """Undo the faults of ``break``: restart the Kubernetes API, clear switches, bring nodes back waiting."""
    config = load_config(args.dir.resolve())
    directory = Path(config["dir"])
    if args.kubeapi:
        faultfile.update(directory, kubeapi=None)
        if config["kube_api"].get("enabled", True) and not processes.is_running(directory, "kubeapi"):
            processes.spawn(directory, "kubeapi", "conflab.kubeapi", log=directory / "kubeapi.log")
            api = config["kube_api"]
            wait_until(lambda: _accepts(api["ip"], api["port"]), "the Kubernetes API", 30)
        progress("the Kubernetes API answers again")
    if args.workloads:
        faultfile.update(directory, workloads=None)
        progress("patching workloads works again")
    if args.lb:
        faultfile.update(directory, lb=None, lb_flap_period=None)
    if args.coordinator:
        faultfile.update(
            directory,
            coordinator_presents=None,
            coordinator_presents_on=None,
            coordinator_guards_peers=None,
            coordinator_peers=None,
        )
        contrast_control().restore_manifest(config)
        progress("the Coordinator presents its own policy hash, and the workspace has its own manifest.json again")
    if args.new_pods:
        faultfile.update(directory, new_pods=None)
        progress("pods created through the API are scheduled again")
    if args.workspace:
        for path in workspace_faults.restore(directory):
            progress(f"{path} is the workspace's own again")
    repaired = select_nodes(config, args.nodes)
    if repaired:
        names = {node["name"] for node in repaired}
        switches = faultfile.read(directory)
        for switch in ("wrong_measurement", "malformed_evidence", "etcd_fails"):
            still = [name for name in switches.get(switch) or [] if name not in names]
            faultfile.update(directory, **{switch: still or None})
    for node in repaired:
        processes.stop(directory, fault_name(node))
        if not processes.is_running(directory, node["name"]):
            start_node(config, node, "reboot")
            progress(f"booted {node['name']}: state disk locked")
    wait_until(
        lambda: all(node_state(config, n) in ("waiting", "unlocked", "joined") for n in repaired),
        "repaired nodes to boot",
        args.timeout,
    )
    return 0


def cmd_lb(args) -> int:
    """Give the load balancer another health-probe profile (a cloud's), and restart it with that profile."""
    directory = args.dir.resolve()
    config = load_config(directory)
    if args.probe_interval <= 0 or args.unhealthy_threshold < 1:
        raise LabError("--probe-interval must be positive and --unhealthy-threshold at least 1")
    config["lb_probe_interval"], config["lb_unhealthy_threshold"] = args.probe_interval, args.unhealthy_threshold
    config["lb_one_backend"] = args.one_backend
    path = directory / "lab.json"
    path.with_name("lab.json.tmp").write_text(json.dumps(config, indent=2))
    path.with_name("lab.json.tmp").replace(path)
    processes.stop(directory, "loadbalancer")
    processes.spawn(directory, "loadbalancer", "conflab.loadbalancer", log=directory / "loadbalancer.log")
    progress(
        f"load balancer: a probe every {args.probe_interval:g} s, a node leaves after {args.unhealthy_threshold} "
        f"failed probe(s) in a row{'; one backend per connection' if args.one_backend else ''}"
    )
    return 0


def lab_status(config: dict) -> dict:
    nodes = [
        {"name": n["name"], "role": n["role"], "ip": n["ip"], "state": node_state(config, n)} for n in config["nodes"]
    ]
    coordinator = {"state": "absent"}
    if config["coordinator"].get("enabled"):
        control = contrast_control()
        members = [
            {"name": coordinator_replicas.pod_name(r), "ip": coordinator_replicas.address(config, r)}
            | control.status(config, r)
            for r in range(coordinator_replicas.count(config))
        ]
        waiting = [m["state"] for m in members if m["state"] != "ready"]
        coordinator = {"state": waiting[0] if waiting else "ready", "replicas": members}
    return {"nodes": nodes, "quorum": has_quorum(config), "coordinator": coordinator}


def cmd_status(args) -> int:
    status = lab_status(load_config(args.dir.resolve()))
    if args.json:
        print(json.dumps(status))
        return 0
    for node in status["nodes"]:
        print(f"{node['name']:<28} {node['role']:<14} {node['ip']:<16} {node['state']}")
    print(f"etcd quorum: {'yes' if status['quorum'] else 'no'}")
    print(f"coordinator: {status['coordinator']['state']}")
    members = status["coordinator"].get("replicas") or []
    for member in members if len(members) > 1 else []:
        how = f" (recovered by {member['recovered_by']})" if member["recovered_by"] else ""
        print(f"  {member['name']:<26} {member['ip']:<16} {member['state']}{how}")
    return 0


def cmd_automatic_drill(args) -> int:
    """Break the lab while the collection's rulebook watches it, touch nothing, and time the recovery."""
    from .automatic import Rulebook, all_ready, render_report, timeline

    directory = args.dir.resolve()
    config = load_config(directory)
    rulebook = Rulebook(directory, interval=args.interval)
    rulebook.ledger_file.unlink(missing_ok=True)  # a drill starts without earlier automatic runs (no cooldown)
    rulebook.start()
    try:
        rulebook.wait_watching()
        rulebook.wait_until(lambda: all_ready(lab_status(config)), "a healthy lab before the break", args.timeout)
        time.sleep(args.interval * 1.5)  # the watch has seen the healthy lab before the outage
        rulebook.ledger_file.unlink(missing_ok=True)
        broke_at = time.time()
        breaking = [sys.executable, "-m", "conflab.cli", "break", "--dir", str(directory), "--reboot", args.reboot]
        if config.get("coordinator", {}).get("enabled"):
            breaking.append("--restart-coordinator")
        broke = subprocess.run(breaking, capture_output=True, text=True, timeout=300, check=False)
        break_returned = round(time.time() - broke_at, 2)  # every rebooted node waits (or already took its key)
        result = timeline(rulebook, broke_at, lambda: lab_status(config), args.timeout)
        result.update(break_rc=broke.returncode, break_returned=break_returned)
        event_at = next((e.get("observed_at") for e in rulebook.ledger() if e.get("started_at", 0) >= broke_at), None)
        result["html_report"] = str(render_report(directory, broke_at, event_at, args.interval))
    finally:
        rulebook.stop()
    result["interval"] = args.interval
    for key, value in result.items():
        print(f"{key:<18} {value}")
    if args.output:
        args.output.write_text(json.dumps(result, indent=2))
    return 0 if result["outcome"] == "recovered" else 1


def cmd_down(args) -> int:
    directory = args.dir.resolve()
    if not directory.joinpath("lab.json").exists():
        return 0
    stop_all(directory)
    progress(f"lab in {directory} is down")
    return 0


def stop_all(directory: Path) -> None:
    lab_json = directory / "lab.json"
    config = json.loads(lab_json.read_text()) if lab_json.exists() else {}
    if config.get("coordinator", {}).get("enabled"):
        contrast_control().down(config)
    for name in processes.running_names(directory):
        processes.stop(directory, name)
    for leftover in (directory / "pids").glob("*.pid") if (directory / "pids").is_dir() else []:
        leftover.unlink(missing_ok=True)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="conflab", description="A loopback twin of a Constellation cluster and a Contrast Coordinator."
    )
    sub = root.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start a lab")
    up.add_argument("--dir", required=True, type=Path)
    up.add_argument("--nodes", type=int, default=5)
    up.add_argument("--workers", type=int, default=1)
    up.add_argument("--ip-prefix", default="127.10.0")
    up.add_argument("--protocol", default="unary", choices=("unary", "stream", "stream-v2.0", "keyservice"))
    up.add_argument("--rejoin-interval", type=float, default=30.0)
    up.add_argument(
        "--lb-probe-interval", type=float, default=1.0, help="seconds between the load balancer's health probes"
    )
    up.add_argument(
        "--lb-unhealthy-threshold",
        type=int,
        default=1,
        help="failed probes in a row before the load balancer drops a node from its pool",
    )
    up.add_argument(
        "--name",
        default="conflab",
        help="the cluster's name, the prefix of its node names (a fleet needs distinct ones)",
    )
    up.add_argument("--log-format", default="slog", choices=("slog", "zap"))
    up.add_argument("--coordinator-paths", default="both", choices=("both", "new", "old"))
    up.add_argument(
        "--coordinator-service",
        default="load-balancer",
        choices=("load-balancer", "internal"),
        help="internal: the coordinator Service has no load-balancer address (a private cluster), so a recovery "
        "reaches the Coordinator through a port-forward to the port-forwarder-coordinator pod; the variables then "
        "give no Coordinator address",
    )
    up.add_argument(
        "--coordinators",
        type=int,
        default=1,
        help="Coordinator replicas (a StatefulSet's pods coordinator-0..N-1); a restarted one recovers from a ready peer",
    )
    up.add_argument(
        "--coordinator-peer-interval",
        type=float,
        default=UPSTREAM_PEER_INTERVAL,
        metavar="SECONDS",
        help="how often a waiting Coordinator asks its ready peers (upstream: every 15 s)",
    )
    up.add_argument("--no-contrast", action="store_true")
    up.add_argument("--no-kubeapi", action="store_true")
    up.add_argument("--timeout", type=float, default=120.0)
    up.add_argument(
        "--attestation",
        default="dummy",
        choices=("dummy",) + MEASURED_ATTESTATIONS,
        help="what the recovery servers attest with: upstream's test variant, a software vTPM (qemu-vtpm), "
        "or a software vTPM vouched for by SEV-SNP reports from a lab AMD root (snp: azure-sev-snp)",
    )
    up.add_argument(
        "--reuse", action="store_true", help="leave a lab that already runs in DIR as it is, instead of refusing"
    )
    up.set_defaults(func=cmd_up)

    brk = sub.add_parser("break", help="kill or reboot nodes, restart the coordinator")
    brk.add_argument("--dir", required=True, type=Path)
    brk.add_argument("--reboot", help="N (the first N control-plane nodes), all, none, or name,name")
    brk.add_argument("--kill", help="N or name,name: stop without restarting")
    brk.add_argument(
        "--fault",
        action="append",
        metavar="NODE=KIND",
        help=f"replace NODE's recovery server: {', '.join(FAULT_KINDS)}; or reboot-after-push; or "
        "wrong-measurement (NODE's PCR 4 differs from the reference); or malformed-evidence (NODE's "
        "attestation document has its PCR values as a list); or etcd-fails (NODE takes its key, "
        "its etcd member crashes at every start)",
    )
    brk.add_argument("--kubeapi", choices=("down", "stall"))
    brk.add_argument("--workloads", choices=("fail",))
    brk.add_argument(
        "--lb",
        choices=("stale-pool", "flapping"),
        help="stale-pool: nodes that left stay in the pool; flapping: the pool empties every other period",
    )
    brk.add_argument("--lb-flap-period", type=float, default=2.0, metavar="SECONDS")
    brk.add_argument(
        "--restart-coordinator",
        nargs="?",
        const="all",
        metavar="REPLICAS",
        help="restart the Coordinator: all replicas, or the ones given by number (1, or 0,2)",
    )
    brk.add_argument(
        "--coordinator-presents",
        choices=("web", "emoji", "db"),
        metavar="WORKLOAD",
        help="the Coordinator's evidence shows the policy hash of this demo workload (web, emoji, db)",
    )
    brk.add_argument(
        "--coordinator-peers",
        choices=("unreachable",),
        help="unreachable: no Coordinator reaches a peer's mesh API, so none recovers from a peer (repair --coordinator)",
    )
    brk.add_argument(
        "--coordinator-guards-peers",
        action="store_true",
        help="a Coordinator refuses a user Recover while ready peers exist, unless the request sets Force, as Contrast "
        "releases after v1.10 do (repair --coordinator undoes it)",
    )
    brk.add_argument(
        "--presents-on",
        metavar="REPLICAS",
        help="with --coordinator-presents: only these Coordinator replicas (1, or 0,2) are impostors",
    )
    brk.add_argument(
        "--manifest-format",
        choices=("names",),
        help="names: rewrite the workspace's manifest.json in Contrast v0.7's form (no Coordinator role)",
    )
    brk.add_argument(
        "--new-pods",
        choices=("unschedulable",),
        help="pods created through the Kubernetes API stay Pending (no node has room), as a forwarder pod might",
    )
    brk.add_argument(
        "--workspace",
        action="append",
        choices=workspace_faults.KINDS,
        help="put another cluster's master secret, or another deployment's seed-shares.json, in the workspace "
        "(the original is kept; repair --workspace restores it)",
    )
    brk.add_argument("--timeout", type=float, default=60.0)
    brk.set_defaults(func=cmd_break)

    repair = sub.add_parser("repair", help="undo faults: Kubernetes API, workloads, load balancer, nodes")
    repair.add_argument("--dir", required=True, type=Path)
    repair.add_argument("--kubeapi", action="store_true")
    repair.add_argument("--workloads", action="store_true")
    repair.add_argument("--lb", action="store_true")
    repair.add_argument(
        "--coordinator",
        action="store_true",
        help="the Coordinator presents its own policy hash, the workspace's manifest.json is restored",
    )
    repair.add_argument("--workspace", action="store_true", help="put the workspace's own files back")
    repair.add_argument("--new-pods", action="store_true", help="pods created through the API are scheduled again")
    repair.add_argument("--nodes", help="N, all, or name,name: stop their fault servers and boot them (locked)")
    repair.add_argument("--timeout", type=float, default=60.0)
    repair.set_defaults(func=cmd_repair)

    lbp = sub.add_parser("lb", help="set the load balancer's health-probe profile and restart it")
    lbp.add_argument("--dir", required=True, type=Path)
    lbp.add_argument("--probe-interval", type=float, required=True, help="seconds between health probes")
    lbp.add_argument(
        "--unhealthy-threshold", type=int, default=1, help="failed probes in a row before a node leaves the pool"
    )
    lbp.add_argument(
        "--one-backend",
        action="store_true",
        help="send each connection to one pool member, as a cloud's layer-4 load balancer does: a member "
        "that left since the last probe fails the connection instead of passing it on",
    )
    lbp.set_defaults(func=cmd_lb)

    status = sub.add_parser("status", help="show node states and quorum")
    status.add_argument("--dir", required=True, type=Path)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    auto = sub.add_parser("automatic-drill", help="break the lab under the collection's rulebook and time it")
    auto.add_argument("--dir", required=True, type=Path)
    auto.add_argument("--interval", type=float, default=2.0, help="the watch's interval in seconds")
    auto.add_argument("--reboot", default="all", help="which control-plane nodes to reboot, as for break")
    auto.add_argument("--timeout", type=float, default=120.0)
    auto.add_argument("--output", type=Path, help="write the timeline as JSON here")
    auto.set_defaults(func=cmd_automatic_drill)

    down = sub.add_parser("down", help="stop everything")
    down.add_argument("--dir", required=True, type=Path)
    down.set_defaults(func=cmd_down)
    return root


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as exc:
        print(f"conflab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
