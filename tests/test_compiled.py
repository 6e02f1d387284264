"""gdlab._compiled.CompiledKernels: the one loader of the kernel modules behind a NumPy path
(GELU, max pooling, the embedding's scatter)."""

from __future__ import annotations

import sys

import pytest

from gdlab._compiled import _UNSET, CompiledKernels


def test_imports_once_and_returns_the_module():
    pytest.importorskip("numba")
    k = CompiledKernels("gdlab.ops._pool_kernels")
    first = k.get()
    assert first is not None and first.__name__ == "gdlab.ops._pool_kernels"
    assert k.get() is first


def test_an_unusable_module_means_numpy_and_is_not_retried():
    k = CompiledKernels("gdlab.no_such_kernels")
    assert k.get() is None
    k._import = lambda: pytest.fail("imported again")  # the outcome is kept
    assert k.get() is None


def test_disabled_jit_means_numpy(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert CompiledKernels("gdlab.ops._pool_kernels").get() is None


def test_only_if_numba_loaded_never_imports_numba(monkeypatch):
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    k = CompiledKernels("gdlab.ops._pool_kernels")
    assert k.get(only_if_numba_loaded=True) is None
    assert "numba" not in sys.modules
    assert k._module is _UNSET  # nothing recorded: asked again once numba is loaded
    k.reset(None)  # forced: the NumPy path
    assert k.get() is None
