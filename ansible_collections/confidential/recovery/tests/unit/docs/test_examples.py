# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Every example the collection shows is one the collection accepts.

The examples are the EXAMPLES of every module and every YAML block of the README, the docs/ guides and the role
READMEs. Each one is checked as far as it can be without a cluster:
- a module task runs the module's real main(), with its Jinja rendered from an example world (a workspace with a
  master secret, a kubeconfig, a constellation-conf.yaml for the task's variant, a Contrast workspace, saved
  evidence) in the workspace as the working directory. It passes when main() reaches the network (the sockets are
  replaced by a trap, so nothing is sent), or ends without failing (offline attestation, reports, plans); a refusal
  on the way, from the argument spec or from the collection's own checks (a hardware variant without reference
  values, a missing file), fails the example;
- role variables (a vars file, a role's vars, AWX's extra_vars) are validated against the roles' argument specs,
  and a name no role knows fails;
- an inventory source is validated against the inventory plugin's documented options;
- a task of another collection (awx.awx) has its extra_vars checked; its own arguments are not (awx.awx is not a
  dependency of this collection), and an unknown collection fails.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from example_world import example_world
from module_arguments import patch_module_args

COLLECTION = Path(__file__).resolve().parents[3]
NAMESPACE = "confidential.recovery."
TASK_KEYWORDS = {
    "name", "register", "when", "loop", "loop_control", "no_log", "check_mode", "failed_when", "changed_when",
    "ignore_errors", "delegate_to", "run_once", "vars", "tags", "environment", "until", "retries", "delay", "notify",
    "become", "diff",
}  # fmt: skip
FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.M | re.S)


def _module_examples():
    for path in sorted((COLLECTION / "plugins" / "modules").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "EXAMPLES":
                yield f"plugins/modules/{path.name}", node.value.value


def _markdown_examples():
    pages = [COLLECTION / "README.md", *sorted((COLLECTION / "docs").rglob("*.md"))]
    pages += sorted((COLLECTION / "roles").glob("*/README.md"))
    for page in pages:
        for number, match in enumerate(FENCE.finditer(page.read_text()), 1):
            yield f"{page.relative_to(COLLECTION)}#yaml-{number}", match.group(1)


EXAMPLES = [*_module_examples(), *_markdown_examples()]


@pytest.mark.parametrize(("where", "text"), EXAMPLES, ids=[example[0] for example in EXAMPLES])
def test_the_example_is_accepted(where, text, tmp_path, monkeypatch, capsys):
    snippet = yaml.safe_load(text)
    assert snippet, f"{where}: an empty example"
    checker = ExampleChecker(where, tmp_path, monkeypatch, capsys)
    if isinstance(snippet, dict) and "plugin" in snippet:
        checker.inventory_source(snippet)
    elif isinstance(snippet, dict):
        checker.role_variables(snippet, "a vars file")
    else:
        for item in snippet:
            checker.play_or_task(item)


def test_the_examples_are_found():
    sources = {example[0].split("#")[0] for example in EXAMPLES}
    assert {"README.md", "docs/awx.md", "plugins/modules/node_recover.py"} <= sources
    assert len(EXAMPLES) >= 20


# What recover.yml and rehearse.yml read themselves, beside the roles' variables: which stages run. Then what the
# playbook auto_recover reads (its guards), and the variables of the rulebooks auto_recover and
# auto_recover_controller (docs/eda.md shows a rulebook vars file, which holds both).
PLAYBOOK_VARIABLES = {
    "recover_constellation": {"type": "bool"},
    "recover_contrast": {"type": "bool"},
    "auto_recover_cooldown": {"type": "float"},
    "auto_recover_max_runs_per_hour": {"type": "int"},
    "auto_recover_rehearsal_only": {"type": "bool"},
    "auto_recover_ledger_file": {"type": "path"},
    "auto_recover_run_timeout": {"type": "float"},
    "auto_recover_cluster": {"type": "str"},
    "cluster_inventory": {"type": "path"},
    "watch_interval": {"type": "float"},
    "watch_timeout": {"type": "float"},
    "watch_repeat_after": {"type": "float"},
    "recovery_job_template": {"type": "str"},
    "recovery_organization": {"type": "str"},
}


class ReachedTheNetwork(BaseException):
    """Raised by the socket trap: the module accepted its arguments and files, and now dials out. A BaseException, so
    that no ``except Exception`` of the module hides it."""


def _trap(*args, **_kwargs):
    raise ReachedTheNetwork(repr(args[-1] if args else ""))


class ExampleChecker:
    def __init__(self, where, tmp_path, monkeypatch, capsys):
        self.where, self.monkeypatch, self.capsys = where, monkeypatch, capsys
        self.world_directory = tmp_path
        self.task_name = ""

    def fail(self, message: str):
        task = f" (task {self.task_name!r})" if self.task_name else ""
        pytest.fail(f"{self.where}{task}: {message}", pytrace=False)

    # -- plays, tasks and the modules they call ------------------------------------------------------------------

    def play_or_task(self, item: dict) -> None:
        if "import_playbook" in item or "ansible.builtin.import_playbook" in item:
            name = item.get("import_playbook") or item["ansible.builtin.import_playbook"]
            if (
                not name.startswith(NAMESPACE)
                or not (COLLECTION / "playbooks" / f"{name[len(NAMESPACE) :]}.yml").is_file()
            ):
                self.fail(f"import_playbook {name}: no such playbook in this collection")
            return
        if "hosts" in item:
            for task in item.get("tasks", []) + item.get("pre_tasks", []) + item.get("post_tasks", []):
                self.play_or_task(task)
            for role in item.get("roles", []):
                self.role(
                    role if isinstance(role, str) else role["role"],
                    role.get("vars", {}) if isinstance(role, dict) else {},
                )
            return
        if "block" in item:
            for task in item["block"] + item.get("rescue", []) + item.get("always", []):
                self.play_or_task(task)
            return
        self.task(item)

    def task(self, task: dict) -> None:
        actions = [key for key in task if key not in TASK_KEYWORDS]
        if len(actions) != 1:
            self.fail(f"task {task.get('name')!r} has {len(actions)} actions: {actions}")
        action, args = actions[0], task[actions[0]]
        self.task_name = task.get("name", action)
        if action.startswith(NAMESPACE):
            self.module(action[len(NAMESPACE) :], args or {}, check_mode=bool(task.get("check_mode")))
        elif action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
            self.role(args["name"], task.get("vars", {}))
        elif action.startswith("ansible.builtin."):
            self.builtin(action)
        elif action.startswith("awx.awx."):
            if isinstance(args.get("extra_vars"), dict):
                self.role_variables(args["extra_vars"], f"{action}'s extra_vars")
        else:
            self.fail(f"{action}: a collection this collection neither ships nor documents")

    def builtin(self, action: str) -> None:
        from ansible.plugins.loader import action_loader, module_loader

        short = action.rsplit(".", 1)[1]
        if not (module_loader.has_plugin(short) or action_loader.has_plugin(short)):
            self.fail(f"{action}: not a module of ansible-core")

    def module(self, name: str, args: dict, check_mode: bool) -> None:
        path = COLLECTION / "plugins" / "modules" / f"{name}.py"
        if not path.is_file():
            self.fail(f"{NAMESPACE}{name}: no such module")
        world = example_world(self.world_directory, args.get("attestation"))
        rendered = world.render(args)
        self.monkeypatch.chdir(world.directory)
        module = __import__(f"ansible_collections.confidential.recovery.plugins.modules.{name}", fromlist=["main"])
        if not hasattr(module, "main"):  # its action plugin does the work: hold the arguments to the documented spec
            self.documented_options(f"{NAMESPACE}{name}", "module", rendered)
            return
        for attribute in ("connect", "connect_ex"):
            self.monkeypatch.setattr(socket.socket, attribute, _trap)
        self.monkeypatch.setattr(socket, "create_connection", _trap)
        self.monkeypatch.setattr(socket, "getaddrinfo", _trap)
        self.capsys.readouterr()
        try:
            with patch_module_args(dict(rendered, _ansible_check_mode=check_mode)):
                module.main()
        except ReachedTheNetwork:
            return
        except SystemExit:
            result = json.loads(self.capsys.readouterr().out)
            if result.get("failed"):
                self.fail(f"{NAMESPACE}{name} refuses it: {result.get('msg')}")
            return
        self.fail(f"{NAMESPACE}{name} returned without a result")

    # -- what is validated against a spec ------------------------------------------------------------------------

    def role(self, name: str, variables: dict) -> None:
        if not name.startswith(NAMESPACE) or not (COLLECTION / "roles" / name[len(NAMESPACE) :]).is_dir():
            self.fail(f"role {name}: no such role in this collection")
        self.role_variables(variables, f"the vars of {name}")

    def role_variables(self, variables: dict, what: str) -> None:
        spec = dict(role_variable_spec(), **PLAYBOOK_VARIABLES)
        unknown = sorted(set(variables) - set(spec))
        if unknown:
            self.fail(f"{what}: no role of this collection takes {', '.join(unknown)}")
        self.validate(spec, _without_jinja(variables), what)

    def inventory_source(self, source: dict) -> None:
        if source["plugin"] != f"{NAMESPACE}constellation":
            self.fail(f"inventory plugin {source['plugin']}: not this collection's")
        self.documented_options(source["plugin"], "inventory", source)

    def documented_options(self, name: str, plugin_type: str, values: dict) -> None:
        options = documented_options(name, plugin_type)
        unknown = sorted(set(values) - set(options))
        if unknown:
            self.fail(f"{name} has no option {', '.join(unknown)}")
        self.validate(options, _without_jinja(values), name)

    def validate(self, spec: dict, values: dict, what: str) -> None:
        result = ArgumentSpecValidator({key: _optional(option) for key, option in spec.items()}).validate(values)
        if result.error_messages:
            self.fail(f"{what}: {'; '.join(result.error_messages)}")


ARGSPEC_KEYS = {"type", "choices", "elements", "default", "aliases", "options", "no_log"}


# The plugin configuration system's type names, as the argument spec calls them.
PLUGIN_TYPES = {"boolean": "bool", "integer": "int", "string": "str", "dictionary": "dict", "pathspec": "list",
                "pathlist": "list", "tmppath": "path", "tmp": "path", "temppath": "path", "none": "raw"}  # fmt: skip


def _optional(option: dict) -> dict:
    """An option as ArgumentSpecValidator takes it, with required dropped (an example shows a part)."""
    spec = {key: value for key, value in option.items() if key in ARGSPEC_KEYS}
    for key in ("type", "elements"):
        if key in spec:
            spec[key] = PLUGIN_TYPES.get(spec[key], spec[key])
    if "suboptions" in option:
        spec["options"] = {key: _optional(sub) for key, sub in option["suboptions"].items()}
    if "options" in option and isinstance(option["options"], dict):
        spec["options"] = {key: _optional(sub) for key, sub in option["options"].items()}
    return spec


def _without_jinja(values: dict) -> dict:
    """A templated value is known only when it runs: its name is checked, its value is not."""
    return {key: value for key, value in values.items() if not (isinstance(value, str) and "{{" in value)}


_ROLE_SPEC: dict = {}


def role_variable_spec() -> dict:
    """Every role's entry-point options, by variable name."""
    if not _ROLE_SPEC:
        for specs in sorted((COLLECTION / "roles").glob("*/meta/argument_specs.yml")):
            for entry in yaml.safe_load(specs.read_text())["argument_specs"].values():
                _ROLE_SPEC.update(entry.get("options", {}))
    return _ROLE_SPEC


_DOCS: dict = {}


def documented_options(name: str, plugin_type: str) -> dict:
    """The options ansible-doc shows (doc fragments merged), read once per plugin."""
    if name not in _DOCS:
        ansible_doc = shutil.which("ansible-doc", path=str(Path(sys.executable).parent))
        answer = subprocess.run(
            [ansible_doc, "--json", "-t", plugin_type, name],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTION.parents[2])),
        )
        _DOCS[name] = json.loads(answer.stdout)[name]["doc"]["options"]
    return _DOCS[name]
