"""Builds: the plan (what is outdated, and why), the pipeline that carries it out, year batches, patches, the daemon's live patch, worker processes."""
