"""The lab's Kubernetes API face: what a user sees of the cluster with the admin kubeconfig."""
