"""gdlab's benchmark suite: side-by-side timings against PyTorch, NumPy and scikit-learn.

Run ``python -m benchmarks`` (``--smoke`` for a seconds-long check, ``--only NAME``,
``--threads 1,2``, ``--out docs/benchmarks.md``). Each module exposes
``run(threads: int, smoke: bool) -> list[dict]``; see ``benchmarks.harness`` for the row format.
"""
