"""The one kind of refusal a person sees: a message in Chinese, the form field it is about, and the
HTTP status a page answers with. Workflow refusals and refused files are both of this kind, so
chat and H5 show them one way."""

from __future__ import annotations


class UserError(Exception):
    status = 400

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
