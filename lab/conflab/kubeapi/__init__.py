# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""The lab's Kubernetes API face: what a user sees of the cluster with the admin kubeconfig."""
