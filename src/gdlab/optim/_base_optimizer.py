"""The base optimizer of a wrapper (SAM, Lookahead), given as a class or a registry name."""

from __future__ import annotations

from typing import Any

from gdlab.optim.optimizer import Optimizer

__all__ = ["resolve_base"]


def resolve_base(
    base: type[Optimizer] | str, kwargs: dict[str, Any], owner: str
) -> tuple[type[Optimizer], dict[str, Any]]:
    """A wrapper's base optimizer given by registry name -> its class, with the registry's
    defaults under ``kwargs`` (so the lab can name it in JSON-safe settings)."""
    if not isinstance(base, str):
        return base, kwargs
    from gdlab.optim.registry import get_optimizer_spec  # the registry imports this module

    try:
        spec = get_optimizer_spec(base)
    except ValueError as e:
        raise ValueError(f"{owner}: base_optimizer {e}") from None
    return spec.cls, spec.defaults | kwargs
