"""Learning-rate schedules (``torch.optim.lr_scheduler``), with PyTorch's exact update rules.

Create the scheduler after the optimizer, call ``scheduler.step()`` after ``optimizer.step()``:
once per epoch for StepLR / MultiStepLR / ExponentialLR / LambdaLR / MultiplicativeLR /
CosineAnnealingLR, once per *batch* for OneCycleLR.
``get_last_lr()`` gives the rate(s) now in use. Creating a scheduler sets each group's ``"lr"`` to the
schedule's first value and records ``"initial_lr"``.

``state_dict()`` holds every attribute but the optimizer (plain Python values), so it can go into a
checkpoint next to the optimizer's.
"""

from __future__ import annotations

import math
import types
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..nn._checks import check_choice, check_int, check_number
from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "LambdaLR", "MultiplicativeLR",
           "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau"]


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` giving the new rates after ``last_epoch`` advanced."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a scheduler with "
                        "last_epoch >= 0; load the optimizer's state_dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group, as set by the last ``step()``."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance the schedule by one epoch (or batch, for OneCycleLR) and write the new rates."""
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``lr = base * gamma**(epoch // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        check_int("StepLR", "step_size", step_size, 1)
        check_number("StepLR", "gamma", gamma, 0.0)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 4.5
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]
        # END SOLUTION


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones`` (e.g. ``[30, 80]``)."""

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        milestones = list(milestones)
        if sorted(milestones) != milestones:
            raise ValueError(f"MultiStepLR: milestones should be increasing, got {milestones}")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._group_lrs()]

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["milestones"] = dict(self.milestones)  # plain dict for checkpoints
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr = base * gamma**epoch`` (as PyTorch, by the
    recursive update ``lr <- lr * gamma``, so it composes with other changes to ``lr``)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        check_number("ExponentialLR", "gamma", gamma, 0.0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]


def _lambdas(name: str, optimizer: Optimizer, fn: Any) -> list[Callable[[int], float]]:
    """One function per parameter group: ``fn`` for all, or a list with one per group (PyTorch's rule)."""
    groups = optimizer.param_groups if isinstance(optimizer, Optimizer) else []
    fns = list(fn) if isinstance(fn, (list, tuple)) else [fn] * len(groups)
    if isinstance(fn, (list, tuple)) and len(fns) != len(groups):
        raise ValueError(f"{name}: Expected {len(groups)} lr_lambdas, but got {len(fns)}")
    for f in fns:
        if not callable(f):
            raise TypeError(f"{name}: lr_lambda must be a function of the epoch (or a list of them), got "
                            f"{type(f).__name__}")
    return fns


class _LambdaState:
    """``state_dict`` as PyTorch's LambdaLR: functions and lambdas are not saved (``None``), callable
    objects are saved as their ``__dict__``; ``load_state_dict`` restores those into the current ones."""

    lr_lambdas: list

    def state_dict(self) -> dict[str, Any]:
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                            for f in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("lr_lambdas", [])
        self.__dict__.update(state_dict)
        for f, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                f.__dict__.update(attrs)


class LambdaLR(_LambdaState, LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``; ``lr_lambda`` is one function, or a list with one per group.

    E.g. linear warm-up over 5 epochs: ``LambdaLR(opt, lambda e: min(1.0, (e + 1) / 5))``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """Multiply the rate by ``lr_lambda(epoch)`` every epoch: ``lr <- lr * lr_lambda(epoch)`` (from epoch 1)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch > 0:
            return [lr * fn(self.last_epoch) for lr, fn in zip(self._group_lrs(), self.lr_lambdas)]
        return self._group_lrs()


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from the base rate to ``eta_min`` over ``T_max`` epochs::

        lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    computed, as in PyTorch, by the equivalent recursive update from the previous rate (so it composes
    with other changes to ``lr``); past ``T_max`` it rises again (a cosine, period ``2 T_max``).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        check_int("CosineAnnealingLR", "T_max", T_max, 1)
        check_number("CosineAnnealingLR", "eta_min", eta_min, 0.0)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._group_lrs()
        t, T, eta = self.last_epoch, self.T_max, self.eta_min
        if self._step_count == 1 and t > 0:
            return [eta + (base - eta) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2
                for base, lr in zip(self.base_lrs, self._group_lrs())
            ]
        return [
            (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta) + eta
            for lr in self._group_lrs()
        ]


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    """``total_steps``, or ``epochs * steps_per_epoch``; PyTorch's rule for OneCycleLR."""
    if total_steps is not None:
        return check_int("OneCycleLR", "total_steps", total_steps, 1)
    if epochs is not None and steps_per_epoch is not None:
        return check_int("OneCycleLR", "epochs", epochs, 1) * check_int("OneCycleLR", "steps_per_epoch",
                                                                        steps_per_epoch, 1)
    raise ValueError("OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)")


def _one_cycle_phases(pct_start: float, total_steps: int, three_phase: bool) -> list[dict]:
    """The phases' last steps and the group keys they anneal between (warm-up, [warm-down,] annealing)."""
    warm = {"end_step": float(pct_start * total_steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
            "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
    if three_phase:
        return [warm,
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]
    return [warm, {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                   "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): warm up from ``max_lr / div_factor`` to ``max_lr`` during the
    first ``pct_start`` of ``total_steps``, then anneal to ``initial_lr / final_div_factor``. Momentum
    (SGD's ``momentum`` or Adam's ``beta1``) cycles the opposite way between ``max_momentum`` and
    ``base_momentum`` when ``cycle_momentum=True``. Step it after every batch.

    ``anneal_strategy``: ``"cos"`` (``end + (start - end) / 2 * (1 + cos(pi * pct))``) or ``"linear"``.
    ``three_phase=True`` adds a symmetric warm-down to ``initial_lr`` before the final annealing.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: {type(optimizer).__name__} is not an Optimizer")
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        check_number("OneCycleLR", "pct_start", pct_start, 0.0, 1.0)
        check_choice("OneCycleLR", "anneal_strategy", anneal_strategy, ("cos", "linear"))
        check_number("OneCycleLR", "div_factor", div_factor, 0.0, low_open=True)
        check_number("OneCycleLR", "final_div_factor", final_div_factor, 0.0, low_open=True)
        self.anneal_strategy = anneal_strategy
        self._schedule_phases = _one_cycle_phases(float(pct_start), self.total_steps, three_phase)
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._init_momentum(optimizer, max_momentum, base_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _init_momentum(self, optimizer: Optimizer, max_momentum: Any, base_momentum: Any, last_epoch: int) -> None:
        """Momentum (SGD) or beta1 (Adam) starts at ``max_momentum`` and cycles down to the base."""
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError("OneCycleLR: optimizer must support momentum or beta1 with `cycle_momentum` option "
                             "enabled; pass cycle_momentum=False")
        self.use_beta1 = "betas" in optimizer.defaults
        max_moms = _per_group("max_momentum", optimizer, max_momentum)
        base_moms = _per_group("base_momentum", optimizer, base_momentum)
        if last_epoch != -1:
            return
        for m_mom, b_mom, group in zip(max_moms, base_moms, optimizer.param_groups):
            if self.use_beta1:
                group["betas"] = (m_mom, *group["betas"][1:])
            else:
                group["momentum"] = m_mom
            group["max_momentum"] = m_mom
            group["base_momentum"] = b_mom

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (mom, *group["betas"][1:])
                else:
                    group["momentum"] = mom
        return lrs


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"expected {len(optimizer.param_groups)} values for {name}, got {len(value)}"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


class ReduceLROnPlateau:
    """Cut the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    Call ``scheduler.step(metric)`` once per epoch with, e.g., the validation loss (``mode='min'``)
    or accuracy (``mode='max'``). PyTorch's rules exactly: a value is an improvement when it beats
    the best so far by more than ``threshold`` (``'rel'``: ``best * (1 -+ threshold)``; ``'abs'``:
    ``best -+ threshold``). After more than ``patience`` epochs without one, every group's rate
    becomes ``max(lr * factor, min_lr)`` (unless that changes it by less than ``eps``), and the next
    ``cooldown`` epochs do not count.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0.0, eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")
        check_choice(name, "mode", mode, ("min", "max"))
        check_choice(name, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.factor = check_number(name, "factor", factor, 0.0, 1.0, high_open=True,
                                   hint="the rate is multiplied by it, e.g. 0.1 or 0.5")
        self.patience = check_int(name, "patience", patience, 0)
        self.cooldown = check_int(name, "cooldown", cooldown, 0)
        self.threshold = check_number(name, "threshold", threshold, 0.0)
        self.eps = check_number(name, "eps", eps, 0.0)
        groups = optimizer.param_groups
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(groups)
        if len(min_lrs) != len(groups):
            raise ValueError(f"{name}: min_lr has {len(min_lrs)} entries for {len(groups)} parameter groups; "
                             "give one per group or a single number")
        self.min_lrs = [check_number(name, "min_lr", v, 0.0) for v in min_lrs]
        self.optimizer = optimizer
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def is_better(self, value: float, best: float) -> bool:
        """Does ``value`` beat ``best`` by more than the threshold?"""
        if self.threshold_mode == "rel":
            margin = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            return value < best * margin if self.mode == "min" else value > best * margin
        return value < best - self.threshold if self.mode == "min" else value > best + self.threshold

    def step(self, metrics: float) -> None:
        """Record one epoch's ``metrics`` (a number or a one-element Tensor); maybe cut the rates."""
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)  # NaN: never better, as PyTorch
        self.last_epoch += 1
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
