"""The daemon's composition root, scheduler loop, job registry, lock and logging."""
