"""Batches: render many variations of one lecture config, locally or on a Dask cluster.

::

    from backprop_anim.batch import load_batch, run_batch, LocalPool
    batch = load_batch("sweeps/lr.yaml")          # every variant validated up front
    report = run_batch(batch, pool=LocalPool(2))  # renders/<batch>/ with manifest + gallery

See docs/batch.md for the sweep format and the cluster set-up.
"""

from .manifest import Manifest, VariantRecord
from .pool import LocalPool
from .runner import BatchReport, default_jobs, plan, run_batch
from .sweep import Batch, Variant, content_hash, load_batch, parse_vary

__all__ = [
    "Batch",
    "BatchReport",
    "LocalPool",
    "Manifest",
    "Variant",
    "VariantRecord",
    "content_hash",
    "default_jobs",
    "load_batch",
    "parse_vary",
    "plan",
    "run_batch",
]
