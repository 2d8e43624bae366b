"""Refusals the workflow gives. Each message is shown to staff as it is, in Chinese."""

from __future__ import annotations

from infra.errors import UserError


class WorkflowError(UserError):
    pass


class NotAllowed(WorkflowError):
    """Wrong role or outside the member's part of the company."""

    status = 403


class NotFound(WorkflowError):
    status = 404


class Invalid(WorkflowError):
    """The input is wrong; `field` names the form field when there is one."""


class Conflict(WorkflowError):
    """Someone else got there first, or the order has moved on. `short` fits on a card's button."""

    status = 409

    def __init__(self, message: str, short: str = "已被处理") -> None:
        super().__init__(message)
        self.short = short
