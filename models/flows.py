"""The two field jobs an order needs, measuring and installing, follow one pattern: a dispatcher
assigns a date and a worker, the worker accepts or declines, does the work, marks it done."""

from __future__ import annotations

from dataclasses import dataclass

from models import OrderState, Role, TaskKind


@dataclass(frozen=True)
class TaskFlow:
    kind: TaskKind
    dispatcher_role: Role
    worker_role: Role
    ready_state: OrderState  # waiting for a dispatcher
    scheduled_state: OrderState
    done_state: OrderState
    ready_title: str  # the dispatchers' card
    task_title: str  # the worker's card
    booked_title: str  # told to sales


MEASURE = TaskFlow(
    kind=TaskKind.MEASURE,
    dispatcher_role=Role.MEASURE_DISPATCHER,
    worker_role=Role.MEASURER,
    ready_state=OrderState.CREATED,
    scheduled_state=OrderState.MEASURE_SCHEDULED,
    done_state=OrderState.MEASURED,
    ready_title="新订单待派测量",
    task_title="新测量任务",
    booked_title="已预约测量",
)

INSTALL = TaskFlow(
    kind=TaskKind.INSTALL,
    dispatcher_role=Role.INSTALL_DISPATCHER,
    worker_role=Role.INSTALLER,
    ready_state=OrderState.IN_STOCK,
    scheduled_state=OrderState.INSTALL_SCHEDULED,
    done_state=OrderState.INSTALLED,
    ready_title="已到货，待派安装",
    task_title="新安装任务",
    booked_title="已预约安装",
)

FLOWS = {TaskKind.MEASURE: MEASURE, TaskKind.INSTALL: INSTALL}
