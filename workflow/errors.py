"""Refusals the workflow gives. Each message is shown to staff as it is, in Chinese."""


class WorkflowError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(WorkflowError):
    """Wrong role or outside the member's part of the company."""


class NotFound(WorkflowError):
    pass


class Invalid(WorkflowError):
    """The input is wrong; `field` names the form field when there is one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Conflict(WorkflowError):
    """Someone else got there first, or the order has moved on. `short` fits on a card's button."""

    def __init__(self, message: str, short: str = "已被处理") -> None:
        super().__init__(message)
        self.short = short
