"""Course machinery: solution markers in the reference code, the task registry, student trees,
notebooks and (in ``minitorch_cnn.grade``) the grader.

    python -m minitorch_cnn.assignments make --out DIR [--tasks 2.1,2.3 | --chapter 2] [--force]
    python -m minitorch_cnn.assignments notebooks --out DIR [--execute]
    python -m minitorch_cnn.assignments list
"""

from .markers import MarkerError, Region, parse_regions
from .tasks import TASKS, TASKS_BY_ID, Task, get_task, select_tasks

__all__ = ["MarkerError", "Region", "parse_regions", "TASKS", "TASKS_BY_ID", "Task", "get_task", "select_tasks"]
