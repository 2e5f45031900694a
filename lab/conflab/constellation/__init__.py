"""Lab double of Constellation control-plane and worker nodes."""
