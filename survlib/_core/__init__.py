"""Layer 1 of survlib: what every other layer may use (numerical guards, input validation)."""

from survlib._core.finite import FiniteGuard, NonFiniteError, require_finite

__all__ = ["FiniteGuard", "NonFiniteError", "require_finite"]
