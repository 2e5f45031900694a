# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's Contrast Coordinator: user API over aTLS with real seed-engine state."""
