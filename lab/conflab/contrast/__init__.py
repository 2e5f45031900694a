"""The lab's Contrast Coordinator: user API over aTLS with real seed-engine state."""
