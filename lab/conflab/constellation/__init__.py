# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Lab double of Constellation control-plane and worker nodes."""
