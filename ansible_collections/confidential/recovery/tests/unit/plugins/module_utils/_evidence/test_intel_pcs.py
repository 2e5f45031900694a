# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Intel's TDX collateral: read from the directory, fetched from a PCS/PCCS only when allowed, kept after a fetch."""

from __future__ import annotations

import json

import pytest
from pcs_double import PcsDouble
from tdx_documents import COLLATERAL, COLLATERAL_NOW, FMSPC, QUOTE

from ansible_collections.confidential.recovery.plugins.module_utils._evidence._intel_pcs import (
    CollateralError,
    PcsCollateral,
)
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_quote import parse_quote
from ansible_collections.confidential.recovery.plugins.module_utils._evidence._tdx_verify import (
    TdxPolicy,
    check_quote,
)

KEPT = f"pcs/tdx/{FMSPC}.json"


@pytest.fixture
def pcs():
    with PcsDouble(json.loads(COLLATERAL), FMSPC) as double:
        yield double


def test_collateral_in_the_directory_is_used_without_asking_anyone(tdx_collateral, pcs):
    collateral = PcsCollateral(str(tdx_collateral), download=True, base_url=pcs.url).tdx(parse_quote(QUOTE))
    assert collateral == COLLATERAL
    assert pcs.requests == []


def test_missing_collateral_without_download_names_the_file_and_the_option(tmp_path, pcs):
    with pytest.raises(CollateralError) as failure:
        PcsCollateral(str(tmp_path), base_url=pcs.url).tdx(parse_quote(QUOTE))
    assert str(tmp_path / KEPT) in str(failure.value) and "attestation_collateral_download" in str(failure.value)
    assert failure.value.check == "tcb_status"
    assert pcs.requests == []


def test_no_directory_is_refused_before_any_fetch(pcs):
    with pytest.raises(CollateralError, match="set attestation_collateral_dir"):
        PcsCollateral(None, download=True, base_url=pcs.url).tdx(parse_quote(QUOTE))
    assert pcs.requests == []


def test_download_fetches_the_platform_collateral_keeps_it_and_the_quote_verifies(tmp_path, pcs):
    quote = parse_quote(QUOTE)
    fetched = PcsCollateral(str(tmp_path), download=True, base_url=pcs.url).tdx(quote)

    assert pcs.requests == [
        "/sgx/certification/v4/pckcrl",
        "/tdx/certification/v4/tcb",
        "/tdx/certification/v4/qe/identity",
        "/sgx/certification/v4/rootcacrl",
    ]
    assert (tmp_path / KEPT).read_text() == fetched
    assert json.loads(fetched)["tcb_info"] == json.loads(COLLATERAL)["tcb_info"]
    tcb = {c.name: c for c in check_quote(quote, fetched, TdxPolicy(), COLLATERAL_NOW)}["tcb_status"]
    assert tcb.passed is True, tcb.detail

    PcsCollateral(str(tmp_path), download=True, base_url=pcs.url).tdx(quote)
    assert len(pcs.requests) == 4  # the next run reads what was kept


def test_a_failing_service_is_named_and_nothing_is_kept(tmp_path, pcs):
    pcs.fail_with = 503
    with pytest.raises(CollateralError, match=r"HTTP 503"):
        PcsCollateral(str(tmp_path), download=True, base_url=pcs.url).tdx(parse_quote(QUOTE))
    assert not (tmp_path / KEPT).exists()


def test_a_stalled_service_ends_at_the_timeout(tmp_path, pcs):
    pcs.stall_seconds = 3.0
    with pytest.raises(CollateralError, match=r"took longer than 0.5 s"):
        PcsCollateral(str(tmp_path), download=True, base_url=pcs.url, timeout=0.5).tdx(parse_quote(QUOTE))
    assert not (tmp_path / KEPT).exists()
