"""Hyper-parameter checks shared by layer constructors, functional calls and optimizers.

Each rule is checked in one place, ``ops/_checks.py`` (the functional entry points live in ``ops/`` and
the layers call the same function in their constructors, before any parameter is allocated); this
module re-exports the hyper-parameter checks for ``nn`` and ``optim``. Each error names the owner
(``"BatchNorm2d"``, ``"SGD"``), the argument, the value, the allowed range and a fix.
"""

from __future__ import annotations

from ..ops._checks import (
    check_bool,
    check_choice,
    check_eps,
    check_groups_divide,
    check_int,
    check_momentum,
    check_normalized_shape,
    check_number,
    check_optional_dim,
    is_int,
)

__all__ = [
    "is_int",
    "check_int",
    "check_number",
    "check_eps",
    "check_momentum",
    "check_choice",
    "check_groups_divide",
    "check_normalized_shape",
    "check_bool",
    "check_optional_dim",
]
