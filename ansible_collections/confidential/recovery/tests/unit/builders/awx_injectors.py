# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""A credential type's injectors, applied as AWX applies them: each file template rendered with the credential's
inputs into a file of its own (mode 0600) in the job's private data directory, then the extra vars rendered with
``tower.filename.<name>`` naming those files. Jinja runs in AWX's immutable sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2.sandbox
import yaml

__all__ = ["inject", "load", "render"]


class UnsafeLoader(yaml.SafeLoader):
    """Reads Ansible's !unsafe tag as the plain string that AWX receives."""


UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=UnsafeLoader)  # noqa: S506 - SafeLoader plus one scalar tag


def render(credential_type: dict, value: str, directory: Path | None = None) -> tuple[dict, dict]:
    """The files (name to content) and extra vars the credential gives a job; every input holds ``value``."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    inputs = {field["id"]: value for field in credential_type["inputs"]["fields"]}
    files = {
        name.split(".", 1)[1]: env.from_string(template).render(**inputs)
        for name, template in credential_type["injectors"]["file"].items()
    }
    where = directory or Path("/tmp")
    tower = {"filename": {name: str(where / f"awx_42_{name}") for name in files}}
    extra_vars = {
        name: env.from_string(template).render(tower=tower, **inputs)
        for name, template in credential_type["injectors"]["extra_vars"].items()
    }
    return files, extra_vars


def inject(path: Path, value: str, directory: Path) -> dict:
    """Write the credential's files into ``directory`` as AWX does, and return the extra vars it adds to the job."""
    files, extra_vars = render(load(path), value, directory)
    for name, content in files.items():
        target = directory / f"awx_42_{name}"
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
    return extra_vars
