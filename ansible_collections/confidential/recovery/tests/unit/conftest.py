# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared by every unit test: the evidence builders and doubles (``builders/``) on the import path, TDX collateral,
and an AWS account on moto."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent / "builders"))

from tdx_documents import COLLATERAL, FMSPC  # noqa: E402 - found through the path set just above

from ansible_collections.confidential.recovery.plugins.module_utils._evidence import _tdx_verify


@pytest.fixture
def tdx_collateral(tmp_path):
    """A collateral directory holding Intel's collateral of the real quote's platform."""
    path = tmp_path / "pcs" / "tdx" / f"{FMSPC}.json"
    path.parent.mkdir(parents=True)
    path.write_text(COLLATERAL)
    return tmp_path


@pytest.fixture
def tcb_out_of_date(monkeypatch):
    """dcap-qvl's verdict OutOfDate (a platform whose TCB Intel has superseded)."""
    monkeypatch.setattr(
        _tdx_verify.dcap_qvl,
        "verify",
        lambda quote, collateral, now: types.SimpleNamespace(status="OutOfDate", advisory_ids=["INTEL-SA-00837"]),
    )


@pytest.fixture
def tcb_up_to_date(monkeypatch):
    """dcap-qvl's verdict UpToDate, for quotes that the software platform re-signed under a test root."""
    monkeypatch.setattr(
        _tdx_verify.dcap_qvl,
        "verify",
        lambda quote, collateral, now: types.SimpleNamespace(status="UpToDate", advisory_ids=[]),
    )


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials only, and no instance metadata service: nothing may leave this machine."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with mock_aws():
        yield
