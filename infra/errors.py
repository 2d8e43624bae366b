"""The one kind of refusal a person sees: a message in Chinese, the form field it is about, and the
HTTP status a page answers with. Workflow refusals and refused files are both of this kind, so
chat and H5 show them one way. A form's refusal may name several fields at once (`errors`), so a
person corrects everything in one go."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self


class UserError(Exception):
    status = 400

    def __init__(self, message: str, field: str = "", *, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Field name -> what is wrong with it; a refusal about one field is its own single entry.
        self.errors: dict[str, str] = dict(errors) if errors else ({field: message} if field else {})

    @classmethod
    def several(cls, errors: Mapping[str, str]) -> Self:
        """One refusal for every field that is wrong (at least one)."""
        (field, message), *rest = errors.items()
        if not rest:
            return cls(message, field)
        return cls(f"有 {len(errors)} 处需要修改，请看标红的项", field, errors=errors)
